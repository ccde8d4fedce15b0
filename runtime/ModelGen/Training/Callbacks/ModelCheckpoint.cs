using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen;

/// <summary>
/// Saves the model at the end of epochs (Keras's <c>keras.callbacks.ModelCheckpoint</c>, with its semantics and
/// defaults): every epoch, or with <see cref="SaveBestOnly"/> only when the monitored metric improved on the best so far.
/// Each save is a complete model file — weights, optimizer state, the history up to that epoch — written atomically as
/// the model's <c>Save</c> writes it, so a crash mid-save keeps the previous checkpoint.
/// </summary>
/// <remarks>
/// The path may hold placeholders filled per epoch as Keras's are: <c>{epoch}</c> (1-based) and the metrics
/// (<c>{val_loss}</c>), each with an optional format in Python's spelling (<c>{epoch:02d}</c>, <c>{val_loss:.4f}</c>) or
/// .NET's (<c>{epoch:D3}</c>, <c>{val_loss:F4}</c>). As in Keras the best value is kept across fits of one instance, and
/// <see cref="InitialValueThreshold"/> sets where it starts. Keras's weights-only and every-N-batches saving are not offered.
/// </remarks>
public sealed partial class ModelCheckpoint : Callback
{
    private readonly MetricMonitor _monitor;

    /// <summary>Creates the callback with Keras's defaults unless told otherwise.</summary>
    /// <param name="path">The model file to write (e.g. <c>best.mgm</c>), possibly with placeholders.</param>
    /// <param name="monitor">The metric that decides what is best (default <c>val_loss</c>).</param>
    /// <param name="saveBestOnly">Save only when the metric improved; otherwise every epoch.</param>
    /// <param name="mode">Whether lower or higher is better; <see cref="MonitorMode.Auto"/> infers it from the name.</param>
    /// <param name="initialValueThreshold">The best value to start from: a model is saved only when it beats it.</param>
    /// <param name="verbose">Whether to print each decision (through the progress output).</param>
    /// <exception cref="ArgumentException">An empty path, a placeholder that names no metric, or an unknown metric.</exception>
    public ModelCheckpoint(
        string path, string monitor = "val_loss", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto,
        double? initialValueThreshold = null, bool verbose = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        foreach (Match placeholder in Placeholder().Matches(path))
        {
            var name = placeholder.Groups["name"].Value;
            if (name != "epoch" && !EpochSummary.MetricNames.Contains(name))
            {
                throw new ArgumentException($"ModelCheckpoint's path '{path}' has the placeholder {{{name}}}: {EpochSummary.UnknownMetric(name)} (or {{epoch}})", nameof(path));
            }
        }

        Path = path;
        _monitor = new MetricMonitor(nameof(ModelCheckpoint), monitor, mode, 0);
        SaveBestOnly = saveBestOnly;
        InitialValueThreshold = initialValueThreshold;
        Best = initialValueThreshold;
        Verbose = verbose;
    }

    /// <summary>The path (template) of the model file.</summary>
    public string Path { get; }

    /// <summary>The monitored metric.</summary>
    public string Monitor => _monitor.Name;

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>Where <see cref="Best"/> started.</summary>
    public double? InitialValueThreshold { get; }

    /// <summary>Whether decisions are printed.</summary>
    public bool Verbose { get; }

    /// <summary>The best monitored value saved so far, or null.</summary>
    public double? Best { get; private set; }

    /// <summary>The file the last save wrote, or null before the first.</summary>
    public string? LastSavedPath { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        if (SaveBestOnly) _monitor.CheckAvailable(Run);
        foreach (Match placeholder in Placeholder().Matches(Path))
        {
            var name = placeholder.Groups["name"].Value;
            if (name.StartsWith("val_", StringComparison.Ordinal) && !Run.HasValidation)
            {
                throw new ArgumentException($"ModelCheckpoint's path '{Path}' uses {{{name}}}, but this fit has no validation data; pass validation data or drop the placeholder.");
            }
        }
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(EpochSummary summary)
    {
        var path = FilePathFor(summary);
        if (SaveBestOnly)
        {
            var current = _monitor.Read(summary);
            var best = MetricMonitor.Format(Best);
            if (!_monitor.IsImprovement(current, Best))
            {
                if (Verbose) Run.Log($"Epoch {summary.Epoch}: {Monitor} did not improve from {best}");
                return;
            }

            if (Verbose) Run.Log($"Epoch {summary.Epoch}: {Monitor} improved from {best} to {MetricMonitor.Format(current)}, saving model to {path}");
            Best = current;
        }
        else if (Verbose)
        {
            Run.Log($"Epoch {summary.Epoch}: saving model to {path}");
        }

        Run.Save(path);
        LastSavedPath = path;
    }

    /// <summary>The path with its placeholders filled from <paramref name="summary"/>.</summary>
    internal string FilePathFor(EpochSummary summary) => Placeholder().Replace(Path, match =>
    {
        var name = match.Groups["name"].Value;
        var format = match.Groups["format"].Success ? match.Groups["format"].Value : "";
        if (name == "epoch") return FormatNumber(summary.Epoch, format, isInteger: true);
        var value = summary.Metric(name) ?? throw new InvalidOperationException($"Epoch {summary.Epoch} has no {name}.");
        return FormatNumber(value, format, isInteger: false);
    });

    /// <summary>A number in a Python format (<c>02d</c>, <c>.2f</c>, <c>.3e</c>) or a .NET one (<c>D2</c>, <c>F4</c>); shortest text without one.</summary>
    private static string FormatNumber(double value, string format, bool isInteger)
    {
        var python = PythonFormat().Match(format);
        if (format.Length == 0) return isInteger ? ((long)value).ToString(CultureInfo.InvariantCulture) : PythonText.Repr(value);
        if (!python.Success) return isInteger ? ((long)value).ToString(format, CultureInfo.InvariantCulture) : value.ToString(format, CultureInfo.InvariantCulture);
        var width = python.Groups["width"].Success ? int.Parse(python.Groups["width"].Value, CultureInfo.InvariantCulture) : 0;
        var precision = python.Groups["precision"].Success ? int.Parse(python.Groups["precision"].Value, CultureInfo.InvariantCulture) : 6;
        var text = python.Groups["type"].Value switch
        {
            "d" => ((long)value).ToString(CultureInfo.InvariantCulture),
            "f" => value.ToString("F" + precision, CultureInfo.InvariantCulture),
            _ => PythonExponent(value, precision),
        };
        var pad = python.Groups["zero"].Success ? '0' : ' ';
        if (text.Length >= width) return text;
        return pad == '0' && text.StartsWith('-') ? "-" + text[1..].PadLeft(width - 1, '0') : text.PadLeft(width, pad);
    }

    /// <summary>Python's <c>%.Ne</c>: one digit, N decimals, <c>e</c>, sign and at least two exponent digits.</summary>
    private static string PythonExponent(double value, int precision)
    {
        var text = value.ToString("E" + precision, CultureInfo.InvariantCulture); // 1.23E-004
        var e = text.IndexOf('E', StringComparison.Ordinal);
        var exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{text[..e]}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}");
    }

    [GeneratedRegex(@"\{(?<name>[a-z_]+)(?::(?<format>[^{}]*))?\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^(?<zero>0)?(?<width>[1-9][0-9]*)?(?:\.(?<precision>[0-9]+))?(?<type>[dfe])$")]
    private static partial Regex PythonFormat();
}

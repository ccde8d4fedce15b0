using System.Globalization;

namespace ModelGen;

/// <summary>
/// The monitored quantity of a callback and Keras's rule for what counts as better (<c>MonitorCallback</c>): a value
/// improves on a reference when it is lower (or higher) by more than <c>min_delta</c>.
/// </summary>
internal sealed class MetricMonitor
{
    private readonly string _owner;
    private readonly double _minDelta;

    /// <param name="owner">The callback's name, for messages.</param>
    /// <param name="name">The metric (<see cref="EpochSummary.MetricNames"/>).</param>
    /// <param name="mode">The direction; <see cref="MonitorMode.Auto"/> infers it from the name.</param>
    /// <param name="minDelta">The least change that counts (its absolute value).</param>
    /// <param name="autoMaximizesAcc">ReduceLROnPlateau's older rule for auto mode: maximise when the name contains "acc", else minimise.</param>
    public MetricMonitor(string owner, string name, MonitorMode mode, double minDelta, bool autoMaximizesAcc = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!EpochSummary.MetricNames.Contains(name)) throw new ArgumentException($"{owner} cannot monitor {EpochSummary.UnknownMetric(name)}", "monitor");
        if (!double.IsFinite(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"{owner}'s minDelta must be a finite number.");
        _owner = owner;
        Name = name;
        _minDelta = Math.Abs(minDelta);
        Maximize = mode switch
        {
            MonitorMode.Min => false,
            MonitorMode.Max => true,
            MonitorMode.Auto when autoMaximizesAcc => name.Contains("acc", StringComparison.Ordinal),
            MonitorMode.Auto when name.EndsWith("loss", StringComparison.Ordinal) => false,
            MonitorMode.Auto when name.EndsWith("accuracy", StringComparison.Ordinal) => true,
            MonitorMode.Auto => throw new ArgumentException(
                $"{owner} cannot tell whether '{name}' should be minimised or maximised; pass mode: MonitorMode.Min or MonitorMode.Max.", nameof(mode)),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{owner}'s mode must be Auto, Min or Max."),
        };
    }

    /// <summary>The monitored metric's name.</summary>
    public string Name { get; }

    /// <summary>Whether higher values are better.</summary>
    public bool Maximize { get; }

    /// <summary>
    /// Refuses to start a fit whose epochs will not have the metric (validation metrics without validation data), where
    /// Keras would warn at every epoch and do nothing.
    /// </summary>
    public void CheckAvailable(TrainingRun run)
    {
        if (Name.StartsWith("val_", StringComparison.Ordinal) && !run.HasValidation)
        {
            throw new ArgumentException(
                $"{_owner} monitors '{Name}', but this fit has no validation data; pass validation data, or monitor '{Name["val_".Length..]}'.");
        }
    }

    /// <summary>The metric's value in <paramref name="summary"/> (checked to exist by <see cref="CheckAvailable"/>).</summary>
    public double Read(EpochSummary summary) =>
        summary.Metric(Name) ?? throw new InvalidOperationException($"{_owner}: epoch {summary.Epoch} has no '{Name}'.");

    /// <summary>Keras's <c>_is_improvement</c>: true when there is no reference yet, or <paramref name="value"/> beats it by more than min_delta.</summary>
    public bool IsImprovement(double value, double? reference) =>
        reference is not { } r || (Maximize ? value - _minDelta > r : value + _minDelta < r);

    /// <summary>A value as Keras's messages print it (<c>%.5f</c>), or <c>None</c>.</summary>
    public static string Format(double? value) => value is { } v ? v.ToString("F5", CultureInfo.InvariantCulture) : "None";
}

/// <summary>Numbers written as Python writes them, for logs that match Keras's.</summary>
internal static class PythonText
{
    /// <summary>
    /// Python's <c>repr(float)</c> for the values callbacks print (learning rates, metrics): the shortest text that reads
    /// back as the same double, with Python's spelling (<c>0.001</c>, <c>1e-05</c>, <c>2.0</c>, <c>nan</c>, <c>inf</c>).
    /// </summary>
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        // .NET's shortest round-trip form switches to an exponent below 1e-4 as Python does ("1E-05" vs "1e-05").
        var text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('e', StringComparison.Ordinal) ? text : text + ".0";
    }
}

using System.Globalization;

namespace ModelGen;

/// <summary>
/// Stops training when a monitored metric has stopped improving (Keras's <c>keras.callbacks.EarlyStopping</c>, with its
/// semantics and defaults): after each epoch the value is compared with the best so far; <see cref="Patience"/> epochs
/// in a row without an improvement larger than <see cref="MinDelta"/> stop the fit. The stop is recorded in the
/// history (<see cref="TrainingHistory.Stops"/>).
/// </summary>
/// <remarks>
/// <para>With <see cref="Baseline"/>, an improvement resets the patience only when it also beats the baseline: if no epoch
/// does, training stops after <see cref="Patience"/> monitored epochs, and the best epoch among them is still the one
/// restored.</para>
/// <para>With <see cref="RestoreBestWeights"/>, the weights of the best epoch are put back when training ends — whether it
/// was stopped or ran all its epochs, as Keras 3 does (Keras 2 restored them only on a stop) — bit for bit, and
/// <see cref="TrainingHistory.WeightsFromEpoch"/> names that epoch. The first monitored epoch always counts as the best
/// so far. Training never stops at the model's very first epoch.</para>
/// </remarks>
public sealed class EarlyStopping : Callback
{
    private readonly MetricMonitor _monitor;
    private float[]? _bestWeights;

    /// <summary>Creates the callback with Keras's defaults unless told otherwise.</summary>
    /// <param name="monitor">The metric: <c>val_loss</c> (default), <c>val_accuracy</c>, <c>loss</c>, <c>accuracy</c>, <c>learning_rate</c>.</param>
    /// <param name="minDelta">The least change that counts as an improvement (its absolute value is used).</param>
    /// <param name="patience">Epochs without improvement after which training stops.</param>
    /// <param name="mode">Whether lower or higher is better; <see cref="MonitorMode.Auto"/> infers it from the name.</param>
    /// <param name="baseline">A value the metric must beat for an epoch to reset the patience; none when null.</param>
    /// <param name="restoreBestWeights">Whether to restore the best epoch's weights when training ends.</param>
    /// <param name="startFromEpoch">Epochs of warm-up, counted over all training of the model, before monitoring starts.</param>
    /// <param name="verbose">Whether to print when it stops and when it restores weights (through the progress output).</param>
    /// <exception cref="ArgumentException">An unknown metric, or a mode that cannot be inferred.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative patience or start epoch, or a non-finite delta or baseline.</exception>
    public EarlyStopping(
        string monitor = "val_loss", double minDelta = 0, int patience = 0, MonitorMode mode = MonitorMode.Auto,
        double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0, bool verbose = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(startFromEpoch);
        if (baseline is { } b && !double.IsFinite(b)) throw new ArgumentOutOfRangeException(nameof(baseline), b, "EarlyStopping's baseline must be a finite number.");
        _monitor = new MetricMonitor(nameof(EarlyStopping), monitor, mode, minDelta);
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        Baseline = baseline;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch;
        Verbose = verbose;
    }

    /// <summary>The monitored metric.</summary>
    public string Monitor => _monitor.Name;

    /// <summary>The least change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs without improvement after which training stops.</summary>
    public int Patience { get; }

    /// <summary>The value an epoch must beat to reset the patience, or null.</summary>
    public double? Baseline { get; }

    /// <summary>Whether the best epoch's weights are restored when training ends.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>Epochs (over all training of the model) before monitoring starts.</summary>
    public int StartFromEpoch { get; }

    /// <summary>Whether messages are printed.</summary>
    public bool Verbose { get; }

    /// <summary>Epochs since the last improvement that beat the baseline (Keras's <c>wait</c>).</summary>
    public int Wait { get; private set; }

    /// <summary>The best value seen in this fit, or null before the first monitored epoch.</summary>
    public double? Best { get; private set; }

    /// <summary>The epoch of <see cref="Best"/> (1-based), or 0.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The epoch at whose end this callback stopped the fit (1-based), or 0 when it did not.</summary>
    public int StoppedEpoch { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _monitor.CheckAvailable(Run);
        Wait = 0;
        StoppedEpoch = 0;
        Best = null;
        BestEpoch = 0;
        _bestWeights = null;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(EpochSummary summary)
    {
        var current = _monitor.Read(summary);
        var index = summary.Epoch - 1; // Keras's 0-based epoch
        if (index < StartFromEpoch) return;
        if (RestoreBestWeights && _bestWeights is null)
        {
            // Never set yet: the current weights are the best.
            _bestWeights = Run.GetWeights();
            BestEpoch = summary.Epoch;
        }

        Wait++;
        if (_monitor.IsImprovement(current, Best))
        {
            Best = current;
            BestEpoch = summary.Epoch;
            if (RestoreBestWeights) _bestWeights = Run.GetWeights();
            // The patience restarts only when the epoch beats both the baseline and the previous best.
            if (Baseline is null || _monitor.IsImprovement(current, Baseline)) Wait = 0;
            return;
        }

        if (Wait >= Patience && index > 0)
        {
            StoppedEpoch = summary.Epoch;
            Run.StopTraining(string.Create(CultureInfo.InvariantCulture,
                $"EarlyStopping: {Monitor} did not improve for {Wait} epoch(s) (best {MetricMonitor.Format(Best)} at epoch {BestEpoch}, patience {Patience})"));
        }
    }

    /// <inheritdoc/>
    public override void OnTrainEnd()
    {
        if (StoppedEpoch > 0 && Verbose) Run.Log($"Epoch {StoppedEpoch}: early stopping");
        if (RestoreBestWeights && _bestWeights is not null)
        {
            if (Verbose) Run.Log($"Restoring model weights from the end of the best epoch: {BestEpoch}.");
            Run.SetWeights(_bestWeights, BestEpoch < Run.History.Epochs ? BestEpoch : null);
        }

        _bestWeights = null;
    }
}

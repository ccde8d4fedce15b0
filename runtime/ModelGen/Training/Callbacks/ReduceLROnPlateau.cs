using System.Globalization;

namespace ModelGen;

/// <summary>
/// Reduces the learning rate when a metric has stopped improving (Keras's <c>keras.callbacks.ReduceLROnPlateau</c>, with
/// its semantics and defaults): after <see cref="Patience"/> epochs without an improvement larger than
/// <see cref="MinDelta"/>, the rate becomes max(rate × <see cref="Factor"/>, <see cref="MinLearningRate"/>), then
/// <see cref="Cooldown"/> epochs pass before counting starts again.
/// </summary>
/// <remarks>
/// The reduced rate is the optimizer's, so it is saved with the model and a resumed run goes on with it. In auto mode the
/// direction follows Keras's rule for this callback: maximise when the name contains <c>acc</c>, else minimise.
/// </remarks>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly MetricMonitor _monitor;
    private double _best;

    /// <summary>Creates the callback with Keras's defaults unless told otherwise.</summary>
    /// <param name="monitor">The metric (default <c>val_loss</c>).</param>
    /// <param name="factor">What the rate is multiplied by, 0 ≤ factor &lt; 1.</param>
    /// <param name="patience">Epochs without improvement before the rate is reduced.</param>
    /// <param name="mode">Whether lower or higher is better; <see cref="MonitorMode.Auto"/> infers it from the name.</param>
    /// <param name="minDelta">The least change that counts as an improvement (Keras's default 1e-4).</param>
    /// <param name="cooldown">Epochs after a reduction during which no epoch counts against the patience.</param>
    /// <param name="minLearningRate">The rate is never reduced below this (Keras's <c>min_lr</c>).</param>
    /// <param name="verbose">Whether to print each reduction (through the progress output).</param>
    /// <exception cref="ArgumentException">An unknown metric.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A factor outside [0, 1), or a negative patience, cooldown or minimum rate.</exception>
    public ReduceLROnPlateau(
        string monitor = "val_loss", double factor = 0.1, int patience = 10, MonitorMode mode = MonitorMode.Auto,
        double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0, bool verbose = false)
    {
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau's factor must be at least 0 and below 1 (Keras refuses a factor ≥ 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (Optimizer.CheckLearningRate(minLearningRate) is { } problem) throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "minLearningRate: " + problem);
        _monitor = new MetricMonitor(nameof(ReduceLROnPlateau), monitor, mode, minDelta, autoMaximizesAcc: true);
        Factor = factor;
        Patience = patience;
        MinDelta = Math.Abs(minDelta);
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
        Verbose = verbose;
    }

    /// <summary>The monitored metric.</summary>
    public string Monitor => _monitor.Name;

    /// <summary>What the rate is multiplied by.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement before a reduction.</summary>
    public int Patience { get; }

    /// <summary>The least change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs after a reduction that do not count.</summary>
    public int Cooldown { get; }

    /// <summary>The lowest rate it sets.</summary>
    public double MinLearningRate { get; }

    /// <summary>Whether reductions are printed.</summary>
    public bool Verbose { get; }

    /// <summary>Epochs since the last improvement (Keras's <c>wait</c>).</summary>
    public int Wait { get; private set; }

    /// <summary>Cooldown epochs left (Keras's <c>cooldown_counter</c>).</summary>
    public int CooldownCounter { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _monitor.CheckAvailable(Run);
        _best = _monitor.Maximize ? double.NegativeInfinity : double.PositiveInfinity;
        Wait = 0;
        CooldownCounter = 0;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(EpochSummary summary)
    {
        var current = _monitor.Read(summary);
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            Wait = 0;
        }

        if (_monitor.IsImprovement(current, _best))
        {
            _best = current;
            Wait = 0;
        }
        else if (CooldownCounter == 0)
        {
            Wait++;
            if (Wait >= Patience)
            {
                var old = Run.LearningRate;
                // Keras compares with min_lr as a float32, as its learning rate is one.
                if ((float)old > (float)MinLearningRate)
                {
                    var reduced = Math.Max(old * Factor, MinLearningRate);
                    Run.LearningRate = reduced;
                    if (Verbose) Run.Log(string.Create(CultureInfo.InvariantCulture, $"Epoch {summary.Epoch}: ReduceLROnPlateau reducing learning rate to {PythonText.Repr(reduced)}."));
                    CooldownCounter = Cooldown;
                    Wait = 0;
                }
            }
        }
    }
}

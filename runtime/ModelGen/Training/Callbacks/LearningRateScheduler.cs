using System.Globalization;

namespace ModelGen;

/// <summary>
/// Sets the learning rate at the beginning of every epoch from a schedule (Keras's
/// <c>keras.callbacks.LearningRateScheduler</c>): <c>schedule(epochIndex, learningRate)</c> gets the 0-based epoch index
/// — as Keras passes it, counted over all training of the model, so a resumed model continues its schedule — and the
/// current rate, and returns the new one. <see cref="LearningRateSchedules"/> has ready-made cosine and step schedules.
/// </summary>
public sealed class LearningRateScheduler : Callback
{
    private readonly Func<int, double, double> _schedule;

    /// <summary>Creates the callback.</summary>
    /// <param name="schedule">(0-based epoch index, current learning rate) → learning rate for that epoch.</param>
    /// <param name="verbose">Whether to print each new rate (through the progress output).</param>
    public LearningRateScheduler(Func<int, double, double> schedule, bool verbose = false)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        _schedule = schedule;
        Verbose = verbose;
    }

    /// <summary>Whether each new rate is printed.</summary>
    public bool Verbose { get; }

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch)
    {
        var index = epoch - 1;
        var rate = _schedule(index, Run.LearningRate);
        if (Optimizer.CheckLearningRate(rate) is { } problem)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The learning-rate schedule returned {rate} for epoch index {index}: {problem}"));
        }

        Run.LearningRate = rate;
        if (Verbose) Run.Log($"Epoch {epoch}: LearningRateScheduler setting learning rate to {PythonText.Repr(rate)}.");
    }
}

/// <summary>
/// Ready-made schedules for <see cref="LearningRateScheduler"/>, as functions of the 0-based epoch index only (so a
/// resumed run lands on the same curve), with the formulas of Keras's <c>CosineDecay</c> and staircase <c>ExponentialDecay</c>
/// counted in epochs.
/// </summary>
public static class LearningRateSchedules
{
    /// <summary>
    /// Cosine decay: rate(e) = initial · ((1 − alpha) · ½(1 + cos(π · min(e, decayEpochs) / decayEpochs)) + alpha), from
    /// <paramref name="initialLearningRate"/> at epoch index 0 down to alpha · initial at <paramref name="decayEpochs"/> and after.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate that is not usable, decayEpochs below 1, or alpha outside [0, 1].</exception>
    public static Func<int, double, double> Cosine(double initialLearningRate, int decayEpochs, double alpha = 0)
    {
        CheckInitial(initialLearningRate);
        ArgumentOutOfRangeException.ThrowIfLessThan(decayEpochs, 1);
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha, the final fraction of the initial rate, must be in [0, 1].");
        return (epoch, _) =>
        {
            var progress = Math.Min(Math.Max(epoch, 0), decayEpochs) / (double)decayEpochs;
            var cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
            return initialLearningRate * ((1 - alpha) * cosine + alpha);
        };
    }

    /// <summary>
    /// Step decay: rate(e) = initial · factor^⌊e / stepEpochs⌋ — the rate is multiplied by <paramref name="factor"/> every
    /// <paramref name="stepEpochs"/> epochs.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate that is not usable, stepEpochs below 1, or factor outside [0, 1].</exception>
    public static Func<int, double, double> Step(double initialLearningRate, int stepEpochs, double factor = 0.1)
    {
        CheckInitial(initialLearningRate);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepEpochs, 1);
        if (!(factor >= 0 && factor <= 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in [0, 1].");
        return (epoch, _) => initialLearningRate * Math.Pow(factor, Math.Max(epoch, 0) / stepEpochs);
    }

    private static void CheckInitial(double rate)
    {
        if (Optimizer.CheckLearningRate(rate) is { } problem) throw new ArgumentOutOfRangeException("initialLearningRate", rate, problem);
    }
}

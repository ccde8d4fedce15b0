using System;

namespace ModelGen;

/// <summary>Updates parameters from a batch gradient. One instance owns the state (moments, step) of one parameter buffer.</summary>
public abstract class Optimizer
{
    private double _learningRate;

    /// <summary>Creates an optimizer with step size <paramref name="learningRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative, or not finite as a float.</exception>
    protected Optimizer(double learningRate = 0.001) => LearningRate = learningRate;

    /// <summary>
    /// Step size (Keras <c>learning_rate</c>), read by every update: schedules and callbacks such as
    /// <see cref="LearningRateScheduler"/> and <see cref="ReduceLROnPlateau"/> change it between epochs, and it is saved
    /// with the optimizer's state, so a resumed run continues with the rate it had reached.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, or not finite as a float (the update uses it as one).</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (CheckLearningRate(value) is { } problem) throw new ArgumentOutOfRangeException(nameof(value), value, problem);
            _learningRate = value;
        }
    }

    /// <summary>Null when <paramref name="learningRate"/> is usable, else why not.</summary>
    internal static string? CheckLearningRate(double learningRate) =>
        IsFiniteFloat(learningRate) && learningRate >= 0
            ? null
            : $"learning_rate must be a finite number ≥ 0 (also as a float, at most {float.MaxValue:G4}), but is {learningRate}.";

    /// <summary>Number of updates applied so far (Keras's <c>iterations</c>).</summary>
    public long Iterations { get; protected set; }

    /// <summary>Applies one update: <paramref name="gradient"/> is the mean gradient of the batch.</summary>
    public abstract void Step(Span<float> parameters, ReadOnlySpan<float> gradient);

    /// <summary>Snapshot of the state, for model files and resuming.</summary>
    public abstract OptimizerState GetState();

    /// <summary>Restores a snapshot taken by <see cref="GetState"/> of the same optimizer kind and parameter count.</summary>
    public abstract void SetState(OptimizerState state);

    /// <summary>
    /// True when one update may be applied in disjoint ranges on several threads: <see cref="BeginStep"/>, then
    /// <see cref="StepRange"/> over ranges that cover the buffer, then <see cref="EndStep"/> — with exactly the
    /// result of <see cref="Step"/>. The training loop then fuses the update into its parallel gradient reduction.
    /// </summary>
    internal virtual bool SupportsRanges => false;

    /// <summary>
    /// Prepares one ranged update of a buffer of <paramref name="length"/> parameters. Returns null, or why the update
    /// cannot be applied (a per-step scalar such as Adam's step size is not a finite float); then call <see cref="AbortStep"/>.
    /// </summary>
    internal virtual string? BeginStep(int length) => throw new NotSupportedException();

    /// <summary>
    /// The update of parameters [start, start + parameters.Length) computed without storing anything: true when every
    /// parameter and state value it would write is finite. Call between <see cref="BeginStep"/> and the ranges' <see cref="StepRange"/>.
    /// </summary>
    internal virtual bool RangeStaysFinite(Span<float> parameters, ReadOnlySpan<float> gradient, int start) => throw new NotSupportedException();

    /// <summary>Updates parameters [start, start + parameters.Length) of the buffer.</summary>
    internal virtual void StepRange(Span<float> parameters, ReadOnlySpan<float> gradient, int start) => throw new NotSupportedException();

    /// <summary>Completes the ranged update begun by <see cref="BeginStep"/>.</summary>
    internal virtual void EndStep() => throw new NotSupportedException();

    /// <summary>Abandons the update begun by <see cref="BeginStep"/>: the state stays as it was before it.</summary>
    internal virtual void AbortStep()
    {
    }

    /// <summary>
    /// <see cref="Step"/> computed without storing anything: true when every parameter and state value it would write is
    /// finite. Optimizers defined outside ModelGen cannot be run dry; for them only the gradient is checked.
    /// </summary>
    internal virtual bool StepStaysFinite(Span<float> parameters, ReadOnlySpan<float> gradient) => Trainer.FirstNonFinite(gradient) < 0;

    /// <summary>
    /// The most updates an optimizer state may count: 2^53, beyond which the step number (an exponent in double
    /// arithmetic) is no longer exact; no training runs that long, so a larger count means a damaged state.
    /// </summary>
    internal const long MaxIterations = 1L << 53;

    /// <summary>Whether <paramref name="value"/> is a finite number also once converted to float, as the update uses it.</summary>
    internal static bool IsFiniteFloat(double value) => float.IsFinite((float)value);

    /// <summary>The index of the first slot value that is not finite (or, with <paramref name="nonNegative"/>, negative), or -1.</summary>
    internal static int FirstInvalid(float[] slot, bool nonNegative)
    {
        var at = Trainer.FirstNonFinite(slot);
        if (at >= 0 || !nonNegative) return at;
        for (var i = 0; i < slot.Length; i++)
        {
            if (slot[i] < 0) return i;
        }
        return -1;
    }
}

/// <summary>Serializable optimizer state.</summary>
/// <param name="Kind">Optimizer name: <c>adam</c> or <c>sgd</c>.</param>
/// <param name="Iterations">Updates applied so far.</param>
/// <param name="Hyperparameters">Named settings (learning_rate, beta_1, ...), so a resumed run continues with the same ones.</param>
/// <param name="Slots">Per-parameter buffers (Adam: m then v; SGD with momentum: velocity), each as long as the parameter buffer.</param>
public sealed record OptimizerState(string Kind, long Iterations, (string Name, double Value)[] Hyperparameters, float[][] Slots);

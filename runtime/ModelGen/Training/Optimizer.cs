using System;

namespace ModelGen;

/// <summary>Updates parameters from a batch gradient. One instance owns the state (moments, step) of one parameter buffer.</summary>
public abstract class Optimizer
{
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

    /// <summary>Prepares one ranged update of a buffer of <paramref name="length"/> parameters.</summary>
    internal virtual void BeginStep(int length) => throw new NotSupportedException();

    /// <summary>Updates parameters [start, start + parameters.Length) of the buffer.</summary>
    internal virtual void StepRange(Span<float> parameters, ReadOnlySpan<float> gradient, int start) => throw new NotSupportedException();

    /// <summary>Completes the ranged update begun by <see cref="BeginStep"/>.</summary>
    internal virtual void EndStep() => throw new NotSupportedException();
}

/// <summary>Serializable optimizer state.</summary>
/// <param name="Kind">Optimizer name: <c>adam</c> or <c>sgd</c>.</param>
/// <param name="Iterations">Updates applied so far.</param>
/// <param name="Hyperparameters">Named settings (learning_rate, beta_1, ...), so a resumed run continues with the same ones.</param>
/// <param name="Slots">Per-parameter buffers (Adam: m then v; SGD with momentum: velocity), each as long as the parameter buffer.</param>
public sealed record OptimizerState(string Kind, long Iterations, (string Name, double Value)[] Hyperparameters, float[][] Slots);

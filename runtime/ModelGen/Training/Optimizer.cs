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
}

/// <summary>Serializable optimizer state.</summary>
/// <param name="Kind">Optimizer name: <c>adam</c> or <c>sgd</c>.</param>
/// <param name="Iterations">Updates applied so far.</param>
/// <param name="Hyperparameters">Named settings (learning_rate, beta_1, ...), so a resumed run continues with the same ones.</param>
/// <param name="Slots">Per-parameter buffers (Adam: m then v; SGD with momentum: velocity), each as long as the parameter buffer.</param>
public sealed record OptimizerState(string Kind, long Iterations, (string Name, double Value)[] Hyperparameters, float[][] Slots);

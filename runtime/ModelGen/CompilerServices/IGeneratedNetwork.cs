using System.ComponentModel;

namespace ModelGen.CompilerServices;

/// <summary>
/// The numeric passes the ModelGen generator writes for one declared network (for generated code only). The runtime's
/// engines — the CPU engine, the GPU session — drive them; users train and predict through the model's own members or
/// <see cref="Trainer"/>.
/// </summary>
/// <remarks>
/// <para>
/// A pass runs on a whole batch: <see cref="BatchPass.Count"/> samples in a workspace laid out for
/// <see cref="BatchPass.Capacity"/> samples (<see cref="WorkspaceLayout"/>). The runtime writes the inputs, runs
/// <see cref="Forward"/>, reads the logits, computes the loss and its gradient into the logits' gradient, then runs
/// <see cref="Backward"/>, which reuses the activations the forward pass left in the workspace. A pass's
/// <see cref="BatchPass.Training"/> says which mode it runs in: Fit and ComputeGradients train (BatchNormalization on the
/// batch's statistics, Dropout dropping), Predict and Evaluate infer (moving statistics, nothing dropped); after an
/// applied training step the engine calls <see cref="UpdateStatistics"/>.
/// </para>
/// <para>Implementations keep no state between calls: any number of passes may run at once on their own workspaces.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGeneratedNetwork : INetwork
{
    /// <summary>Floats of workspace one pass of <paramref name="capacity"/> samples needs.</summary>
    long WorkspaceLength(int capacity);

    /// <summary>Runs every layer forward: from the workspace's inputs to its logits (the last layer's values before any softmax).</summary>
    void Forward(in BatchPass pass, ReadOnlySpan<float> parameters, Span<float> workspace);

    /// <summary>
    /// Runs every layer backward from d(loss)/d(logits) in the workspace, after <see cref="Forward"/> in training mode on
    /// the same workspace: writes d(loss)/d(trainable parameters), summed over the pass's samples, to every element of
    /// <paramref name="gradient"/> (<see cref="NetworkDescription.TrainableParameterCount"/> floats).
    /// </summary>
    void Backward(in BatchPass pass, ReadOnlySpan<float> parameters, Span<float> workspace, Span<float> gradient);

    /// <summary>
    /// After a training <see cref="Forward"/> whose step was applied: moves the non-trainable state (each
    /// BatchNormalization layer's moving mean and variance, after the trainable parameters in <paramref name="parameters"/>)
    /// toward the pass's batch statistics left in the workspace. Networks without such state do nothing.
    /// </summary>
    void UpdateStatistics(in BatchPass pass, Span<float> parameters, Span<float> workspace);
}

/// <summary>
/// Where the runtime and generated code meet in a workspace (for generated code only): the inputs, the logits and their
/// gradient, each <c>capacity</c> samples long, then the layer area that generated code lays out itself.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WorkspaceLayout
{
    /// <summary>The inputs: [capacity, inputLength].</summary>
    public static Span<float> Input(Span<float> workspace, int capacity, int inputLength, int outputLength) =>
        workspace.Slice(0, checked(capacity * inputLength));

    /// <summary>The logits: [capacity, outputLength].</summary>
    public static Span<float> Logits(Span<float> workspace, int capacity, int inputLength, int outputLength) =>
        workspace.Slice(checked(capacity * inputLength), checked(capacity * outputLength));

    /// <summary>d(loss)/d(logits): [capacity, outputLength].</summary>
    public static Span<float> LogitsGradient(Span<float> workspace, int capacity, int inputLength, int outputLength) =>
        workspace.Slice(checked(capacity * (inputLength + outputLength)), checked(capacity * outputLength));

    /// <summary>Everything after the logits' gradient: the generated network's activations, their gradients and kernel scratch.</summary>
    public static Span<float> Layers(Span<float> workspace, int capacity, int inputLength, int outputLength) =>
        workspace.Slice(checked(capacity * (inputLength + 2 * outputLength)));

    /// <summary>Floats before the layer area.</summary>
    public static long PrefixLength(int capacity, int inputLength, int outputLength) => (long)capacity * (inputLength + 2L * outputLength);
}

using System;

namespace ModelGen;

/// <summary>
/// The numeric core that the ModelGen generator writes for one declared network. The runtime (training loop,
/// evaluation, model files) works against this interface; the generated code behind it has every dimension
/// as a constant and no layer objects.
/// </summary>
/// <remarks>
/// One sample at a time: the runtime parallelises over the samples of a batch, each worker with its own
/// workspace and gradient buffer, so implementations must only read <see cref="Parameters"/> and must not keep
/// per-call state in fields.
/// </remarks>
public interface INetwork
{
    /// <summary>Shapes, layers and parameter layout of this network, fixed at compile time.</summary>
    NetworkDescription Description { get; }

    /// <summary>All trainable parameters in one contiguous buffer, laid out as <see cref="NetworkDescription.ParameterViews"/> says.</summary>
    float[] Parameters { get; }

    /// <summary>The optimizer that trains this network; kept between <c>Fit</c> calls and saved with the model.</summary>
    Optimizer? Optimizer { get; set; }

    /// <summary>What training recorded so far; saved with the model.</summary>
    TrainingHistory? History { get; set; }

    /// <summary>
    /// Runs the forward pass for one sample. <paramref name="workspace"/> must hold at least
    /// <see cref="NetworkDescription.WorkspaceLength"/> floats and receives every activation;
    /// <paramref name="output"/> (<see cref="NetworkDescription.OutputLength"/>) receives the last layer's output
    /// (probabilities when the last layer is a softmax).
    /// </summary>
    void Forward(ReadOnlySpan<float> input, Span<float> workspace, Span<float> output);

    /// <summary>
    /// Runs the forward pass for one sample as <see cref="Forward"/> does and returns its sparse categorical
    /// cross-entropy against <paramref name="label"/>, computed from the logits.
    /// </summary>
    float ForwardLoss(ReadOnlySpan<float> input, int label, Span<float> workspace, Span<float> output);

    /// <summary>
    /// Runs the forward and the backward pass for one sample with sparse categorical cross-entropy against
    /// <paramref name="label"/>, adds d(loss)/d(parameters) for this sample to <paramref name="gradient"/> (same layout
    /// as <see cref="Parameters"/>; not divided by any batch size), writes the output as <see cref="Forward"/> does and
    /// returns this sample's loss.
    /// </summary>
    float ForwardBackward(ReadOnlySpan<float> input, int label, Span<float> workspace, Span<float> output, Span<float> gradient);
}

using ILGPU;

namespace ModelGen.Gpu;

/// <summary>
/// The compiled kernels of one generated network, grouped into the passes a training step runs in order:
/// <see cref="Gather"/>, <see cref="Forward"/>, <see cref="Loss"/>, <see cref="Backward"/>, <see cref="AdamStep"/>
/// (and <see cref="Output"/> for prediction). Each pass only queues kernels on the accelerator's default stream: nothing
/// waits for the device and nothing is copied to the host.
/// </summary>
/// <remarks>
/// Generated code derives from this class (one nested class per model). All buffers are described by a
/// <see cref="GpuBatch"/>; their layouts are those of the CPU path, with activations batch-major.
/// </remarks>
public abstract class GpuKernelSet
{
    /// <summary>Floats of <see cref="GpuBatch.Scratch"/> the parameter-gradient passes need (partial sums over batch slices).</summary>
    public abstract int ScratchLength { get; }

    /// <summary>Input[b] = Features[Order[Start + b]] and BatchLabels[b] = Labels[Order[Start + b]] for b &lt; Count.</summary>
    public abstract void Gather(in GpuBatch batch);

    /// <summary>Runs every layer forward on <see cref="GpuBatch.Input"/>; each layer's output lands in its slice of the workspace.</summary>
    public abstract void Forward(in GpuBatch batch);

    /// <summary>
    /// Fused softmax and sparse cross-entropy on the last layer's output, one thread per sample: writes the outputs
    /// (probabilities after a softmax layer) to <see cref="GpuBatch.Output"/>, each sample's loss and hit to
    /// <see cref="GpuBatch.Losses"/> and <see cref="GpuBatch.Correct"/>, d(mean loss)/d(logits) (already scaled by 1/Count)
    /// to the first gradient buffer of the workspace, and <see cref="GpuBatch.Step"/> to <see cref="GpuBatch.Status"/>[0]
    /// (when it is still 0) if a loss is not finite.
    /// </summary>
    public abstract void Loss(in GpuBatch batch);

    /// <summary>Writes the network's outputs (probabilities after a softmax layer) to <see cref="GpuBatch.Output"/>, without labels.</summary>
    public abstract void Output(in GpuBatch batch);

    /// <summary>Back-propagates the gradient left by <see cref="Loss"/>; overwrites <see cref="GpuBatch.Gradients"/> with the batch's mean gradient.</summary>
    public abstract void Backward(in GpuBatch batch);

    /// <summary>
    /// One Adam step over all parameters with Keras's formula (m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
    /// w −= α·m/(sqrt(v) + ε)); skipped entirely while <see cref="GpuBatch.Status"/>[0] is not 0.
    /// </summary>
    /// <param name="batch">The buffers (Parameters, Gradients, Moment1, Moment2, Status are used).</param>
    /// <param name="alpha">lr·sqrt(1 − β2^t)/(1 − β1^t) for this step t, computed on the host.</param>
    /// <param name="oneMinusBeta1">1 − β1.</param>
    /// <param name="oneMinusBeta2">1 − β2.</param>
    /// <param name="epsilon">ε.</param>
    public abstract void AdamStep(in GpuBatch batch, float alpha, float oneMinusBeta1, float oneMinusBeta2, float epsilon);
}

/// <summary>
/// The device buffers and sizes one pass of a <see cref="GpuKernelSet"/> works on. Parameters, gradients and Adam moments
/// have the CPU layout (<see cref="NetworkDescription.ParameterViews"/>); the workspace holds, for every region of the CPU
/// workspace, <see cref="Capacity"/> samples one after the other (region offset × Capacity).
/// </summary>
public readonly struct GpuBatch
{
    /// <summary>Samples in this batch (1..<see cref="Capacity"/>).</summary>
    public int Count { get; init; }

    /// <summary>Samples the batch buffers (Input, Workspace, Output) are sized for.</summary>
    public int Capacity { get; init; }

    /// <summary>Most threads one kernel launch may use; kernels loop over their elements (grid-stride).</summary>
    public int MaxThreads { get; init; }

    /// <summary>First position in <see cref="Order"/> of this batch.</summary>
    public int Start { get; init; }

    /// <summary>1-based number of this step in the epoch, recorded in <see cref="Status"/> when a loss is not finite.</summary>
    public int Step { get; init; }

    /// <summary>The whole data set on the device: samples one after the other.</summary>
    public ArrayView<float> Features { get; init; }

    /// <summary>The labels of the whole data set.</summary>
    public ArrayView<int> Labels { get; init; }

    /// <summary>Sample indices in the order of this epoch.</summary>
    public ArrayView<int> Order { get; init; }

    /// <summary>The batch's inputs: Capacity × InputLength.</summary>
    public ArrayView<float> Input { get; init; }

    /// <summary>The batch's labels: Capacity.</summary>
    public ArrayView<int> BatchLabels { get; init; }

    /// <summary>All parameters, laid out as on the CPU.</summary>
    public ArrayView<float> Parameters { get; init; }

    /// <summary>The batch's mean gradient, laid out as the parameters.</summary>
    public ArrayView<float> Gradients { get; init; }

    /// <summary>Adam's first moment (m), laid out as the parameters.</summary>
    public ArrayView<float> Moment1 { get; init; }

    /// <summary>Adam's second moment (v), laid out as the parameters.</summary>
    public ArrayView<float> Moment2 { get; init; }

    /// <summary>Activations and the two gradient buffers: Capacity × WorkspaceLength.</summary>
    public ArrayView<float> Workspace { get; init; }

    /// <summary>Partial sums of the parameter gradients (<see cref="GpuKernelSet.ScratchLength"/>).</summary>
    public ArrayView<float> Scratch { get; init; }

    /// <summary>The network's outputs: Capacity × OutputLength.</summary>
    public ArrayView<float> Output { get; init; }

    /// <summary>Per-sample losses of this batch (at least Count).</summary>
    public ArrayView<float> Losses { get; init; }

    /// <summary>Per-sample hits of this batch, 1 when the predicted class is the label (at least Count).</summary>
    public ArrayView<int> Correct { get; init; }

    /// <summary>One int: 0 while every loss was finite, else the step that first produced a non-finite loss.</summary>
    public ArrayView<int> Status { get; init; }

    /// <summary>Launch size of a grid-stride kernel over <paramref name="elements"/> elements.</summary>
    public int Threads(int elements) => Math.Min(elements, MaxThreads);

    /// <summary>The workspace region that the CPU path places at <paramref name="offset"/> with <paramref name="length"/> floats per sample, for all Capacity samples.</summary>
    public ArrayView<float> Region(int offset, int length) => Workspace.SubView((long)Capacity * offset, (long)Capacity * length);
}

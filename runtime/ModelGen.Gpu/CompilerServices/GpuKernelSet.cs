using System.ComponentModel;

namespace ModelGen.Gpu.CompilerServices;

/// <summary>
/// The compiled per-layer kernels of one generated network (for generated code only): a forward and a backward pass,
/// each of which only queues kernels on the accelerator's default stream. Everything that does not depend on the
/// network's shapes (gathering a batch, the loss, softmax, Adam, the slice reduction of parameter gradients, copies) is
/// ModelGen.Gpu's own and runs around these passes.
/// </summary>
/// <remarks>
/// Buffers are those of the CPU path (<see cref="GpuBatch"/>): the same workspace layout, the same parameter layout,
/// with the kernel scratch of the CPU replaced by <see cref="ScratchLength"/> floats of parameter-gradient partial sums.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GpuKernelSet
{
    /// <summary>
    /// The version of the GPU contract between the generator and this package. Generated kernel sets pass the version
    /// they were written for; a <see cref="GpuSession"/> refuses another one with a clear error.
    /// </summary>
    public const int ContractVersion = 2;

    /// <summary>Creates the set; generated code passes its contract version and the sizes from the model's plan.</summary>
    /// <param name="contractVersion">The <see cref="ContractVersion"/> the generator wrote the kernels for.</param>
    /// <param name="layerFloatsPerSample">Floats per sample of the workspace's layer area (activations, then their gradients).</param>
    /// <param name="scratchLength">Floats of parameter-gradient partial sums the backward pass needs.</param>
    /// <param name="passFloats">Floats of the workspace's pass area after the layer area, whose size does not depend on the sample count (BatchNormalization's batch statistics).</param>
    protected GpuKernelSet(int contractVersion, long layerFloatsPerSample, long scratchLength, long passFloats)
    {
        GeneratedContractVersion = contractVersion;
        LayerAreaPerSample = layerFloatsPerSample;
        ScratchLength = scratchLength;
        PassFloats = passFloats;
    }

    /// <summary>Floats of the pass area after the layer area (<see cref="GpuBatch.PassArea"/>), as on the CPU.</summary>
    public long PassFloats { get; }

    /// <summary>The contract version the generator wrote these kernels for.</summary>
    public int GeneratedContractVersion { get; }

    /// <summary>Floats per sample of the layer area of the workspace, after the inputs, logits and their gradient.</summary>
    public long LayerAreaPerSample { get; }

    /// <summary>Floats of <see cref="GpuBatch.Scratch"/> the backward pass needs (partial sums over batch slices).</summary>
    public long ScratchLength { get; }

    /// <summary>Runs every layer forward, from the batch's inputs to its logits (the last layer's values before any softmax).</summary>
    public abstract void Forward(in GpuBatch batch);

    /// <summary>
    /// Runs every layer backward from d(loss)/d(logits), after a training <see cref="Forward"/> on the same workspace: writes
    /// d(loss)/d(trainable parameters), summed over the batch's samples, to every element of <see cref="GpuBatch.Gradients"/>.
    /// </summary>
    public abstract void Backward(in GpuBatch batch);

    /// <summary>
    /// After a training <see cref="Forward"/> and the optimizer's kernels: moves the moving statistics toward the batch's,
    /// unless <see cref="GpuBatch.Status"/> says a step of the fit failed. Networks without them queue nothing.
    /// </summary>
    public virtual void UpdateStatistics(in GpuBatch batch)
    {
    }
}

using System.ComponentModel;
using ILGPU;
using ModelGen.CompilerServices;

namespace ModelGen.Gpu.CompilerServices;

/// <summary>
/// The device buffers one pass of a <see cref="GpuKernelSet"/> works on (for generated code only), laid out exactly as
/// the CPU path lays them out: the workspace of <see cref="Capacity"/> samples holds the inputs, the logits and their
/// gradient (ModelGen.CompilerServices.WorkspaceLayout), then the layer area, each buffer at capacity × its offset per
/// sample (<see cref="Region"/>); parameters and gradients use the network's parameter layout (Keras layouts).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct GpuBatch
{
    private readonly SharedKernels _shared;
    private readonly ArrayView<float> _workspace;
    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly long _layerFloatsPerSample;

    internal GpuBatch(
        SharedKernels shared, int count, int capacity, int inputLength, int outputLength, long layerFloatsPerSample, int maxThreads,
        ArrayView<float> workspace, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> scratch,
        ArrayView<int> status, bool training, ulong dropoutKey)
    {
        _shared = shared;
        Count = count;
        Capacity = capacity;
        _inputLength = inputLength;
        _outputLength = outputLength;
        _layerFloatsPerSample = layerFloatsPerSample;
        MaxThreads = maxThreads;
        _workspace = workspace;
        Parameters = parameters;
        Gradients = gradients;
        Scratch = scratch;
        Status = status;
        Training = training;
        DropoutKey = dropoutKey;
    }

    /// <summary>
    /// True in training (Fit, ComputeGradients): BatchNormalization normalises with the batch's statistics, Dropout drops
    /// values; false in inference (Evaluate, PredictBatch), as ModelGen.CompilerServices.BatchPass.Training on the CPU.
    /// </summary>
    public bool Training { get; }

    /// <summary>The key of a training pass's dropout masks (ModelGen.CompilerServices.Dropout.PassKey), the CPU's for the same step.</summary>
    public ulong DropoutKey { get; }

    /// <summary>The fit's status word: 0 while every step so far succeeded; kernels that change state after a step skip it otherwise.</summary>
    public ArrayView<int> Status { get; }

    /// <summary>A buffer of the pass area (after the layer area), whose size does not depend on the sample count: [length] at <paramref name="offset"/>.</summary>
    public ArrayView<float> PassArea(int offset, int length) =>
        _workspace.SubView(WorkspaceLayout.PrefixLength(Capacity, _inputLength, _outputLength) + Capacity * _layerFloatsPerSample + offset, length);

    /// <summary>Samples in this pass (1..<see cref="Capacity"/>).</summary>
    public int Count { get; }

    /// <summary>Samples the workspace is laid out for; every buffer holds this many.</summary>
    public int Capacity { get; }

    /// <summary>Most threads one launch uses; every kernel loops over its elements (grid-stride).</summary>
    public int MaxThreads { get; }

    /// <summary>All parameters, laid out as on the CPU.</summary>
    public ArrayView<float> Parameters { get; }

    /// <summary>d(loss)/d(trainable parameters), laid out as the first ones of the parameters.</summary>
    public ArrayView<float> Gradients { get; }

    /// <summary>Partial sums of parameter gradients over batch slices (<see cref="GpuKernelSet.ScratchLength"/> floats).</summary>
    public ArrayView<float> Scratch { get; }

    /// <summary>The inputs: [capacity, inputLength].</summary>
    public ArrayView<float> Input => _workspace.SubView(0, (long)Capacity * _inputLength);

    /// <summary>The logits: [capacity, outputLength].</summary>
    public ArrayView<float> Logits => _workspace.SubView((long)Capacity * _inputLength, (long)Capacity * _outputLength);

    /// <summary>d(loss)/d(logits): [capacity, outputLength].</summary>
    public ArrayView<float> LogitsGradient => _workspace.SubView((long)Capacity * (_inputLength + _outputLength), (long)Capacity * _outputLength);

    /// <summary>The layer-area buffer at <paramref name="offsetPerSample"/> holding <paramref name="perSample"/> floats per sample: [capacity, perSample].</summary>
    public ArrayView<float> Region(long offsetPerSample, long perSample) =>
        _workspace.SubView(WorkspaceLayout.PrefixLength(Capacity, _inputLength, _outputLength) + Capacity * offsetPerSample, Capacity * perSample);

    /// <summary>Launch size of a grid-stride kernel over <paramref name="elements"/> elements.</summary>
    public int Threads(long elements) => (int)Math.Clamp(elements, 1, MaxThreads);

    /// <summary>
    /// Adds the <paramref name="slices"/> batch-slice partial sums of a layer's parameter gradient, [slices, kernel + bias] at
    /// the start of <see cref="Scratch"/>, in slice order (the same bits on every device and launch size), into the
    /// layer's kernel and bias gradients.
    /// </summary>
    public void ReduceSlices(int slices, ArrayView<float> kernelGradient, ArrayView<float> biasGradient)
    {
        var parameters = kernelGradient.Length + biasGradient.Length;
        var n = Threads(parameters);
        _shared.ReduceSlices(n, n, slices, (int)kernelGradient.Length, (int)biasGradient.Length, Scratch, kernelGradient, biasGradient);
    }

    /// <summary>to[0..length) = from[0..length): a layer that only re-interprets its input (Flatten) when its output is another buffer.</summary>
    public void Copy(ArrayView<float> from, ArrayView<float> to, long length)
    {
        var n = Threads(length);
        _shared.Copy(n, n, checked((int)length), from, to);
    }
}

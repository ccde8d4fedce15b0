using ModelGen.Generator.Model;

namespace ModelGen.Generator.Planning;

// The plan of a model: every decision the emitters need, made once by ModelPlanner from the checked layer shapes.
// Emitters only write code from it. Everything here is a value (records and equatable arrays), so the incremental
// pipeline caches on plain equality, and the plan can be tested without Roslyn.

/// <summary>A layer after shape inference, before planning: the user's arguments and the shapes they produce.</summary>
internal sealed record ShapedLayer(
    int Position,
    LayerKind Kind,
    Shape Input,
    Shape Output,
    int Size,
    int KernelSize,
    int Stride,
    PaddingKind Padding,
    int PadTop,
    int PadLeft,
    ActivationKind Activation);

/// <summary>A named tensor in the parameter buffer, laid out as Keras lays it out.</summary>
/// <param name="KerasName">Keras's variable name, e.g. <c>conv2d/kernel</c>.</param>
/// <param name="Identifier">The C# name generated code gives its view, e.g. <c>conv2d_kernel</c>.</param>
/// <param name="Offset">First index in the parameter buffer.</param>
/// <param name="Shape">Keras layout: [kh, kw, in, out] for a Conv2D kernel, [in, out] for a Dense kernel, [out] for a bias.</param>
internal sealed record ParameterTensor(string KerasName, string Identifier, int Offset, EquatableArray<int> Shape)
{
    public int Length
    {
        get
        {
            var n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The matching slice of the gradient buffer (same offset), e.g. <c>conv2d_grad_kernel</c>.</summary>
    public string GradientIdentifier => Identifier.Replace("_kernel", "_grad_kernel").Replace("_bias", "_grad_bias");
}

/// <summary>
/// One activation buffer of a pass, named after what it holds (<c>conv2d_out</c>, <c>conv2d_grad_out</c>). A pass of
/// <c>capacity</c> samples keeps each buffer as <c>capacity × PerSample</c> floats at <c>capacity × OffsetPerSample</c> in
/// the layer area of the workspace, sample after sample, each in the layer's channels-last layout.
/// </summary>
/// <param name="IsGradient">True for a gradient buffer, which only training passes write.</param>
internal sealed record BufferPlan(string Identifier, string Description, Shape Shape, long OffsetPerSample, bool IsGradient = false)
{
    public long PerSample => Shape.Length;
}

/// <summary>A layer with everything the emitters need: shapes, parameter views, the buffers it reads and writes, and whether its backward pass runs.</summary>
internal sealed record LayerPlan(
    int Position,
    LayerKind Kind,
    string KerasName,
    Shape Input,
    Shape Output,
    int Size,
    int KernelSize,
    int Stride,
    PaddingKind Padding,
    int PadTop,
    int PadLeft,
    ActivationKind Activation,
    ParameterTensor? Kernel,
    ParameterTensor? Bias,
    int FanIn,
    int FanOut,
    string InputBuffer,
    string OutputBuffer,
    string? InputGradientBuffer,
    string? OutputGradientBuffer,
    bool RunsBackward,
    long MultiplyAdds,
    long BackwardMultiplyAdds,
    int GpuGradientSlices)
{
    /// <summary>Prefix of the generated members of this layer, e.g. Conv2D_3 (the pattern the generator reserves).</summary>
    public string MemberPrefix => $"{Kind}_{Position}";

    /// <summary>Display name used in messages and comments, e.g. Conv2D #3.</summary>
    public string DisplayName => $"{Kind} #{Position}";

    /// <summary>The struct of literals generated code passes to the kernels as this layer's shape.</summary>
    public string ShapeType => MemberPrefix + "_Shape";

    public int ParameterCount => (Kernel?.Length ?? 0) + (Bias?.Length ?? 0);

    public bool HasParameters => ParameterCount > 0;

    /// <summary>True when the backward pass computes d(loss)/d(input): some layer before this one has parameters.</summary>
    public bool NeedsInputGradient => InputGradientBuffer is not null;

    /// <summary>True for layers that only re-interpret their input's memory (Flatten).</summary>
    public bool IsView => Kind == LayerKind.Flatten;

    /// <summary>
    /// For a pooling layer right after an activated layer: that activation, whose derivative this layer's backward pass
    /// applies as it writes d(loss)/d(input) (one pass over the buffer instead of two). None otherwise.
    /// </summary>
    public ActivationKind InputActivation { get; init; }

    /// <summary>True when the next layer's backward pass applies this layer's activation derivative (see <see cref="InputActivation"/>).</summary>
    public bool ActivationGradientByNext { get; init; }
}

/// <summary>A whole model ready to emit.</summary>
/// <param name="Buffers">The layer area of a pass's workspace, in order (the contract's input, logits and logits_grad come before it).</param>
/// <param name="MicroBatch">Samples one evaluation or prediction pass runs at once: as many as keep the buffers within about 4 MB, at most 64.</param>
/// <param name="GpuScratchLength">Floats of the GPU's gradient partial sums (the largest layer's slices × parameters).</param>
/// <param name="Costs">Multiply-adds and memory, exactly.</param>
internal sealed record ModelPlan(
    string Namespace,
    string ClassName,
    Shape Input,
    EquatableArray<LayerPlan> Layers,
    EquatableArray<BufferPlan> Buffers,
    int ParameterCount,
    long BufferFloatsPerSample,
    int MicroBatch,
    string Architecture,
    string Fingerprint,
    long ForwardMultiplyAdds,
    int GpuScratchLength,
    ModelCosts Costs)
{
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    public LayerPlan Last => Layers[Layers.Count - 1];

    public Shape Output => Last.Output;

    public bool SoftmaxOutput => Last.Activation == ActivationKind.Softmax;

    /// <summary>True when some layer trains, so the network has a backward pass.</summary>
    public bool Trainable => ParameterCount > 0;

    public System.Collections.Generic.IEnumerable<ParameterTensor> Parameters
    {
        get
        {
            foreach (var layer in Layers)
            {
                if (layer.Kernel is { } kernel) yield return kernel;
                if (layer.Bias is { } bias) yield return bias;
            }
        }
    }
}

/// <summary>A model whose class is fine but whose layers have errors: enough to emit its stub surface.</summary>
internal sealed record ModelStub(string Namespace, string ClassName, Shape? Input);

/// <summary>What the generator emits for one model: the network from its plan, or the stub surface.</summary>
internal sealed record GeneratorModel(ModelPlan? Plan, ModelStub? Stub);

/// <summary>Names of the buffers the runtime contract places before the layer area of every workspace.</summary>
internal static class ContractBuffers
{
    public const string Input = "input";
    public const string Logits = "logits";
    public const string LogitsGradient = "logits_grad";
}

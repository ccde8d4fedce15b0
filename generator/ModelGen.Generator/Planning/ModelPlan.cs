using System.Linq;
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
    ActivationKind Activation,
    double Rate = 0,
    double Momentum = LayerSpec.DefaultMomentum,
    double Epsilon = LayerSpec.DefaultEpsilon);

/// <summary>A named tensor in the parameter buffer, laid out as Keras lays it out.</summary>
/// <param name="KerasName">Keras's variable name, e.g. <c>conv2d/kernel</c>, <c>batch_normalization/moving_mean</c>.</param>
/// <param name="Identifier">The C# name generated code gives its view, e.g. <c>conv2d_kernel</c>.</param>
/// <param name="Offset">First index in the parameter buffer (trainable tensors first, then the non-trainable ones).</param>
/// <param name="Shape">Keras layout: [kh, kw, in, out] for a Conv2D kernel, [in, out] for a Dense kernel, [out] for a bias, [channels] for BatchNormalization's.</param>
/// <param name="Trainable">False for state the optimizer does not update (BatchNormalization's moving statistics).</param>
internal sealed record ParameterTensor(string KerasName, string Identifier, int Offset, EquatableArray<int> Shape, bool Trainable = true)
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

    /// <summary>What the tensor is within its layer: <c>kernel</c>, <c>bias</c>, <c>gamma</c>, <c>beta</c>, <c>moving_mean</c>, <c>moving_variance</c>.</summary>
    public string Role => KerasName.Substring(KerasName.IndexOf('/') + 1);

    /// <summary>The matching slice of the gradient buffer (same offset), e.g. <c>conv2d_grad_kernel</c>; trainable tensors only.</summary>
    public string GradientIdentifier => KerasName.Substring(0, KerasName.IndexOf('/')) + "_grad_" + Role;

    /// <summary>The generated model's property for the view, e.g. <c>Kernel</c>, <c>MovingMean</c> (after the layer's prefix).</summary>
    public string PropertySuffix
    {
        get
        {
            var text = new System.Text.StringBuilder();
            foreach (var part in Role.Split('_')) text.Append(char.ToUpperInvariant(part[0])).Append(part.Substring(1));
            return text.ToString();
        }
    }
}

/// <summary>
/// A buffer of one pass whose size does not depend on the sample count (a BatchNormalization layer's batch statistics):
/// <see cref="Length"/> floats at <see cref="Offset"/> in the workspace's pass area, after the layer area.
/// </summary>
internal sealed record PassBufferPlan(string Identifier, string Description, int Length, int Offset);

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
    EquatableArray<ParameterTensor> Tensors,
    int FanIn,
    int FanOut,
    string InputBuffer,
    string OutputBuffer,
    string? InputGradientBuffer,
    string? OutputGradientBuffer,
    bool RunsBackward,
    long MultiplyAdds,
    long BackwardMultiplyAdds,
    int GpuGradientSlices,
    double Rate = 0,
    double Momentum = LayerSpec.DefaultMomentum,
    double Epsilon = LayerSpec.DefaultEpsilon,
    string? SumsBuffer = null,
    string? StatisticsBuffer = null)
{
    /// <summary>Conv2D's and Dense's kernel.</summary>
    public ParameterTensor? Kernel => Tensor("kernel");

    /// <summary>Conv2D's and Dense's bias.</summary>
    public ParameterTensor? Bias => Tensor("bias");

    /// <summary>BatchNormalization's scale (trainable).</summary>
    public ParameterTensor? Gamma => Tensor("gamma");

    /// <summary>BatchNormalization's offset (trainable).</summary>
    public ParameterTensor? Beta => Tensor("beta");

    /// <summary>BatchNormalization's moving mean (non-trainable).</summary>
    public ParameterTensor? MovingMean => Tensor("moving_mean");

    /// <summary>BatchNormalization's moving variance (non-trainable).</summary>
    public ParameterTensor? MovingVariance => Tensor("moving_variance");

    private ParameterTensor? Tensor(string role)
    {
        foreach (var t in Tensors)
        {
            if (t.Role == role) return t;
        }

        return null;
    }

    /// <summary>Prefix of the generated members of this layer, e.g. Conv2D_3 (the pattern the generator reserves).</summary>
    public string MemberPrefix => $"{Kind}_{Position}";

    /// <summary>Display name used in messages and comments, e.g. Conv2D #3.</summary>
    public string DisplayName => $"{Kind} #{Position}";

    /// <summary>The struct of literals generated code passes to the kernels as this layer's shape.</summary>
    public string ShapeType => MemberPrefix + "_Shape";

    /// <summary>Keras's "Param #": trainable and non-trainable.</summary>
    public int ParameterCount => Tensors.Sum(t => t.Length);

    public int TrainableParameterCount => Tensors.Where(t => t.Trainable).Sum(t => t.Length);

    public bool HasParameters => ParameterCount > 0;

    /// <summary>True when the optimizer trains something of this layer (so the layers after it run backward).</summary>
    public bool HasTrainableParameters => TrainableParameterCount > 0;

    /// <summary>True for layers that compute differently in training and inference (BatchNormalization, Dropout).</summary>
    public bool DependsOnMode => Kind is LayerKind.BatchNormalization or LayerKind.Dropout;

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
    int TrainableParameterCount,
    long BufferFloatsPerSample,
    int MicroBatch,
    string Architecture,
    string Fingerprint,
    long ForwardMultiplyAdds,
    int GpuScratchLength,
    EquatableArray<PassBufferPlan> PassBuffers,
    int PassFloats,
    ModelCosts Costs)
{
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    public LayerPlan Last => Layers[Layers.Count - 1];

    public Shape Output => Last.Output;

    public bool SoftmaxOutput => Last.Activation == ActivationKind.Softmax;

    /// <summary>True when some layer trains, so the network has a backward pass.</summary>
    public bool Trainable => TrainableParameterCount > 0;

    /// <summary>Keras's "Non-trainable params".</summary>
    public int NonTrainableParameterCount => ParameterCount - TrainableParameterCount;

    /// <summary>True when a layer computes differently in training and inference.</summary>
    public bool DependsOnMode => Layers.Any(l => l.DependsOnMode);

    /// <summary>Every parameter tensor in Keras's <c>get_weights()</c> order: layer by layer, each layer's tensors in Keras's order.</summary>
    public System.Collections.Generic.IEnumerable<ParameterTensor> Parameters => Layers.SelectMany(l => l.Tensors);

    /// <summary>The trainable tensors, in buffer order.</summary>
    public System.Collections.Generic.IEnumerable<ParameterTensor> TrainableParameters => Parameters.Where(t => t.Trainable);
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

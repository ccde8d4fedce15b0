using System;

namespace ModelGen.Generator.Model;

// The parsed, location-free description of a model. Everything here is a value: no ISymbol, SyntaxNode,
// Location or Compilation survives the parse step, so the incremental pipeline caches on plain equality.

internal enum LayerKind
{
    Conv2D,
    MaxPool2D,
    AvgPool2D,
    Flatten,
    Dense,
}

/// <summary>Mirrors ModelGen.Padding (the generator cannot reference the runtime).</summary>
internal enum PaddingKind
{
    Valid = 0,
    Same = 1,
}

/// <summary>Mirrors ModelGen.Activation.</summary>
internal enum ActivationKind
{
    None = 0,
    Tanh = 1,
    Relu = 2,
    Sigmoid = 3,
    Softmax = 4,
}

/// <summary>The shape of one sample: an image (h x w x c, channels last) or a flat vector.</summary>
internal readonly record struct Shape(int Rank, int Height, int Width, int Channels)
{
    public static Shape Image(int height, int width, int channels) => new(3, height, width, channels);

    public static Shape Flat(int length) => new(1, 1, 1, length);

    public bool IsImage => Rank == 3;

    public long Length => (long)Height * Width * Channels;

    /// <summary>Human form used in messages and the summary: 14x14x6 or 784.</summary>
    public override string ToString() => IsImage ? $"{Height}x{Width}x{Channels}" : Channels.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Keras's form: (None, 14, 14, 6).</summary>
    public string ToKerasString() => IsImage ? $"(None, {Height}, {Width}, {Channels})" : $"(None, {Channels})";
}

/// <summary>One layer attribute as written by the user (values only; 0 = "not given" where a default applies).</summary>
internal sealed record LayerSpec(
    LayerKind Kind,
    int Size,
    int KernelSize,
    int Stride,
    PaddingKind Padding,
    ActivationKind Activation,
    EquatableArray<int> DeclaredInputShape,
    bool HasDeclaredInputShape);

/// <summary>A layer after shape inference: everything the emitters need, all constants.</summary>
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
    int KernelOffset,
    int KernelLength,
    int BiasOffset,
    int BiasLength,
    int InputOffset,
    int OutputOffset)
{
    /// <summary>Prefix of the generated members of this layer, e.g. Conv2D_3.</summary>
    public string MemberPrefix => $"{Kind}_{Position}";

    /// <summary>Display name used in messages and comments, e.g. Conv2D #3.</summary>
    public string DisplayName => $"{Kind} #{Position}";

    public int ParameterCount => KernelLength + BiasLength;

    public bool HasParameters => ParameterCount > 0;

    /// <summary>
    /// Stride-1 convolutions run on zero-padded channel planes (ModelGen.Cpu.ConvKernels), vectorised over output
    /// columns; strided ones use the per-pixel path.
    /// </summary>
    public bool Planar => Kind == LayerKind.Conv2D && Stride == 1;

    /// <summary>Scratch floats a planar convolution needs; must match ConvKernels.ScratchLength in the runtime.</summary>
    public long PlanarScratchLength
    {
        get
        {
            if (!Planar) return 0;
            static long RoundUp(long n) => (n + 7) / 8 * 8;
            long planeHeight = Output.Height + KernelSize - 1;
            long planeWidth = RoundUp(Output.Width) + KernelSize - 1;
            long gradientWidth = RoundUp(System.Math.Max(Input.Width, Output.Width)) + 2L * KernelSize;
            return Input.Channels * planeHeight * planeWidth + (long)Output.Channels * Output.Height * gradientWidth;
        }
    }

    /// <summary>Keras kernel shape: [kh, kw, in, out] for Conv2D, [in, out] for Dense.</summary>
    public int[] KernelShape => Kind == LayerKind.Conv2D
        ? new[] { KernelSize, KernelSize, Input.Channels, Size }
        : new[] { (int)Input.Length, Size };
}

/// <summary>A whole model ready to emit.</summary>
internal sealed record ModelPlan(
    string Namespace,
    string ClassName,
    Shape Input,
    EquatableArray<LayerPlan> Layers,
    int ParameterCount,
    int WorkspaceLength,
    int GradientScratchOffset,
    int GradientScratchLength,
    int ConvScratchOffset,
    int ConvScratchLength,
    string Architecture,
    string Fingerprint)
{
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    public LayerPlan Last => Layers[Layers.Count - 1];

    public Shape Output => Last.Output;

    public bool SoftmaxOutput => Last.Activation == ActivationKind.Softmax;
}

/// <summary>A model whose class is fine but whose layers have errors: enough to emit its stub surface.</summary>
internal sealed record ModelStub(string Namespace, string ClassName, Shape? Input);

/// <summary>What the generator emits for one model: the network from its plan, or the stub surface.</summary>
internal sealed record GeneratorModel(ModelPlan? Plan, ModelStub? Stub);

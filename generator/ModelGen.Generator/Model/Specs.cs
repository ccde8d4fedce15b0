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
    BatchNormalization,
    Dropout,
    GlobalAveragePooling2D,
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
/// <param name="Rate">Dropout's rate.</param>
/// <param name="Momentum">BatchNormalization's momentum (Keras's default 0.99 when not given).</param>
/// <param name="Epsilon">BatchNormalization's epsilon (Keras's default 0.001 when not given).</param>
internal sealed record LayerSpec(
    LayerKind Kind,
    int Size,
    int KernelSize,
    int Stride,
    PaddingKind Padding,
    ActivationKind Activation,
    EquatableArray<int> DeclaredInputShape,
    bool HasDeclaredInputShape,
    double Rate = 0,
    double Momentum = LayerSpec.DefaultMomentum,
    double Epsilon = LayerSpec.DefaultEpsilon)
{
    /// <summary>Keras's BatchNormalization momentum.</summary>
    public const double DefaultMomentum = 0.99;

    /// <summary>Keras's BatchNormalization epsilon.</summary>
    public const double DefaultEpsilon = 0.001;
}

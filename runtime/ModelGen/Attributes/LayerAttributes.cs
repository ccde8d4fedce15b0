using System;

namespace ModelGen;

/// <summary>
/// Base of every layer attribute. Layers run in the order their attributes appear in source.
/// </summary>
public abstract class LayerAttribute : Attribute
{
    /// <summary>
    /// Optional assertion of the shape this layer receives: <c>new[] { h, w, c }</c> for an image, <c>new[] { n }</c>
    /// after <see cref="FlattenAttribute"/>. Keras ignores a wrong <c>input_shape</c>; ModelGen reports it at compile time.
    /// </summary>
    public int[]? InputShape { get; set; }
}

/// <summary>2-D convolution over a channels-last image (Keras <c>Conv2D</c>). Kernel layout [kh, kw, in, out].</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute : LayerAttribute
{
    /// <summary>A convolution with <paramref name="filters"/> output channels and a square <paramref name="kernelSize"/> window.</summary>
    public Conv2DAttribute(int filters, int kernelSize)
    {
        Filters = filters;
        KernelSize = kernelSize;
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }

    /// <summary>Side of the square kernel window.</summary>
    public int KernelSize { get; }

    /// <summary>Step of the window in both directions (default 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Border handling (default <see cref="Padding.Valid"/>, as in Keras).</summary>
    public Padding Padding { get; set; } = Padding.Valid;

    /// <summary>Activation applied to the output (default <see cref="Activation.None"/>).</summary>
    public Activation Activation { get; set; } = Activation.None;
}

/// <summary>Max pooling over square windows (Keras <c>MaxPooling2D</c>, padding 'valid').</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute : LayerAttribute
{
    /// <summary>Pooling over <paramref name="poolSize"/> x <paramref name="poolSize"/> windows.</summary>
    public MaxPool2DAttribute(int poolSize) => PoolSize = poolSize;

    /// <summary>Side of the square window.</summary>
    public int PoolSize { get; }

    /// <summary>Step of the window; when not set it equals <see cref="PoolSize"/>, as in Keras.</summary>
    public int Stride { get; set; }
}

/// <summary>Average pooling over square windows (Keras <c>AveragePooling2D</c>, padding 'valid').</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPool2DAttribute : LayerAttribute
{
    /// <summary>Pooling over <paramref name="poolSize"/> x <paramref name="poolSize"/> windows.</summary>
    public AvgPool2DAttribute(int poolSize) => PoolSize = poolSize;

    /// <summary>Side of the square window.</summary>
    public int PoolSize { get; }

    /// <summary>Step of the window; when not set it equals <see cref="PoolSize"/>, as in Keras.</summary>
    public int Stride { get; set; }
}

/// <summary>Flattens an h x w x c image to a vector of h·w·c values, channels last: index = (y·w + x)·c + ch.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FlattenAttribute : LayerAttribute
{
}

/// <summary>Fully connected layer (Keras <c>Dense</c>). Kernel layout [in, out].</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute : LayerAttribute
{
    /// <summary>A dense layer with <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;

    /// <summary>Number of outputs.</summary>
    public int Units { get; }

    /// <summary>Activation applied to the output (default <see cref="Activation.None"/>).</summary>
    public Activation Activation { get; set; } = Activation.None;
}

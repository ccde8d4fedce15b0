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

/// <summary>
/// Batch normalization (Keras <c>BatchNormalization</c>, axis −1): per channel of an image (channels last) or per unit of
/// a vector. In training (Fit) it normalises with the batch's mean and biased variance and moves the moving statistics
/// toward them; in inference (Predict, Evaluate) it normalises with the moving statistics. Parameters: gamma and beta
/// (trainable, initialised to 1 and 0), moving_mean and moving_variance (non-trainable, initialised to 0 and 1).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormalizationAttribute : LayerAttribute
{
    /// <summary>Momentum of the moving statistics: moving = moving · Momentum + batch · (1 − Momentum). Keras's default 0.99; 0 to 1.</summary>
    public double Momentum { get; set; } = 0.99;

    /// <summary>Added to the variance before its square root (Keras's default 0.001); must be positive.</summary>
    public double Epsilon { get; set; } = 0.001;
}

/// <summary>
/// Inverted dropout (Keras <c>Dropout</c>): in training each value is dropped with probability <see cref="Rate"/> and the
/// kept ones are scaled by 1 / (1 − rate); in inference every value passes unchanged. Masks come from the training seed,
/// so a run is reproducible and does not depend on the thread count.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute : LayerAttribute
{
    /// <summary>Dropout of the fraction <paramref name="rate"/> of the values, 0 ≤ rate &lt; 1.</summary>
    public DropoutAttribute(double rate) => Rate = rate;

    /// <summary>Fraction of the values dropped in training.</summary>
    public double Rate { get; }
}

/// <summary>Average over all pixels of each channel (Keras <c>GlobalAveragePooling2D</c>): h x w x c → c. No parameters.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAveragePooling2DAttribute : LayerAttribute
{
}

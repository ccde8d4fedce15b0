namespace ModelGen;

/// <summary>How a convolution treats the border of its input (Keras's <c>padding</c> argument).</summary>
public enum Padding
{
    /// <summary>No padding: the window only visits positions where it fits entirely. Output = floor((in - k) / s) + 1.</summary>
    Valid = 0,

    /// <summary>Zero padding so that output = ceil(in / s); when the padding is odd the extra row/column goes bottom/right.</summary>
    Same = 1,
}

/// <summary>The element-wise function applied to a layer's output.</summary>
public enum Activation
{
    /// <summary>Identity (Keras <c>linear</c>).</summary>
    None = 0,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh = 1,

    /// <summary>max(0, x).</summary>
    Relu = 2,

    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid = 3,

    /// <summary>Softmax over the layer's outputs. Allowed on the last layer only; training then uses a fused, numerically stable cross-entropy on the logits.</summary>
    Softmax = 4,
}

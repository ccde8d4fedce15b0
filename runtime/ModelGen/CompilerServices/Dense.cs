using System.ComponentModel;

namespace ModelGen.CompilerServices;

/// <summary>
/// Dense on the CPU, batch-major (for generated code only): the 1 × 1 convolution of a 1 × 1 image with Inputs channels,
/// so it runs on the <see cref="Convolution"/> kernels — one implementation of the multiply-add tiles for both layer kinds.
/// Kernel layout [Inputs, Units], as in Keras.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Dense
{
    /// <summary>Floats of scratch memory the kernels of <typeparamref name="TShape"/> need for a pass of <paramref name="capacity"/> samples.</summary>
    public static long ScratchLength<TShape>(int capacity) where TShape : IDenseShape =>
        Convolution.ScratchLength<DenseAsConvolution<TShape>>(capacity);

    /// <summary>y = activation(x · kernel + bias) for the pass's samples; x [count, Inputs], y [count, Units].</summary>
    public static void Forward<TShape, TActivation>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        where TShape : IDenseShape where TActivation : IActivationFunction =>
        Convolution.Forward<DenseAsConvolution<TShape>, TActivation>(pass, x, kernel, bias, y, scratch);

    /// <summary>
    /// From dz = d(loss)/d(pre-activation) [count, Units]: the kernel and bias gradients summed over the samples (written,
    /// not added) and, unless <paramref name="dx"/> is empty, d(loss)/d(x) [count, Inputs].
    /// </summary>
    public static void Backward<TShape>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> kernel, ReadOnlySpan<float> dz,
        Span<float> dKernel, Span<float> dBias, Span<float> dx, Span<float> scratch)
        where TShape : IDenseShape =>
        Convolution.Backward<DenseAsConvolution<TShape>>(pass, x, kernel, dz, dKernel, dBias, dx, scratch);
}

using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>
/// The constant shape of one stride-1 convolution. Generated code declares a struct per layer whose members return
/// literals; the JIT specialises <see cref="ConvKernels"/> for each such struct, so every dimension below is a
/// compile-time constant in the machine code, as if the loops had been written for that layer alone.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IConvShape
{
    /// <summary>Input height.</summary>
    static abstract int InHeight { get; }

    /// <summary>Input width.</summary>
    static abstract int InWidth { get; }

    /// <summary>Input channels.</summary>
    static abstract int InChannels { get; }

    /// <summary>Output height.</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width.</summary>
    static abstract int OutWidth { get; }

    /// <summary>Output channels (filters).</summary>
    static abstract int OutChannels { get; }

    /// <summary>Side of the square kernel.</summary>
    static abstract int KernelSize { get; }

    /// <summary>Zero rows above the input ('same' padding).</summary>
    static abstract int PadTop { get; }

    /// <summary>Zero columns left of the input ('same' padding).</summary>
    static abstract int PadLeft { get; }
}

/// <summary>
/// Stride-1 convolution on channel planes. Activations stay channels-last (Keras order) between layers; inside a
/// convolution the input is copied into zero-padded planes [channel][row][column], so that every kernel tap reads a
/// contiguous row segment and eight output columns are computed per vector instruction, whatever the channel count.
/// Register tiles of 4 channels x 2 vectors give eight independent FMA chains.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ConvKernels
{
    private const int Lanes = 8;

    private static int RoundUp(int n) => (n + Lanes - 1) & ~(Lanes - 1);

    /// <summary>Rows of a padded input plane.</summary>
    public static int PlaneHeight<T>() where T : IConvShape => T.OutHeight + T.KernelSize - 1;

    /// <summary>Columns of a padded input plane (output width rounded up to whole vectors, plus the kernel reach).</summary>
    public static int PlaneWidth<T>() where T : IConvShape => RoundUp(T.OutWidth) + T.KernelSize - 1;

    /// <summary>Columns of a gradient plane: zero margins of KernelSize on both sides of the output columns.</summary>
    public static int GradientWidth<T>() where T : IConvShape => RoundUp(Math.Max(T.InWidth, T.OutWidth)) + 2 * T.KernelSize;

    /// <summary>Floats of scratch a forward/backward pass needs (input planes, then gradient planes).</summary>
    public static int ScratchLength<T>() where T : IConvShape =>
        T.InChannels * PlaneHeight<T>() * PlaneWidth<T>() + T.OutChannels * T.OutHeight * GradientWidth<T>();

    /// <summary>y = conv(x) + bias (no activation), x and y channels-last.</summary>
    public static void Forward<T>(ReadOnlySpan<float> x, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        where T : IConvShape
    {
        int k = T.KernelSize, c = T.InChannels, o = T.OutChannels, outH = T.OutHeight, outW = T.OutWidth;
        int planeH = PlaneHeight<T>(), planeW = PlaneWidth<T>();
        if (scratch.Length < ScratchLength<T>() || kernel.Length < k * k * c * o || bias.Length < o || y.Length < outH * outW * o) ThrowLength();
        var planes = scratch.Slice(0, c * planeH * planeW);
        ToInputPlanes<T>(x, planes);

        ref var pr = ref MemoryMarshal.GetReference(planes);
        ref var kr = ref MemoryMarshal.GetReference(kernel);
        ref var br = ref MemoryMarshal.GetReference(bias);
        ref var yr = ref MemoryMarshal.GetReference(y);
        var chunks = RoundUp(outW) / Lanes;
        Span<float> tile = stackalloc float[8 * Lanes];
        for (var oy = 0; oy < outH; oy++)
        {
            for (var ob = 0; ob < o; ob += 4)
            {
                // Channels past the last one repeat it; their results are computed and dropped.
                int o0 = ob, o1 = Math.Min(ob + 1, o - 1), o2 = Math.Min(ob + 2, o - 1), o3 = Math.Min(ob + 3, o - 1);
                for (var jb = 0; jb < chunks; jb += 2)
                {
                    var j1 = Math.Min(jb + 1, chunks - 1);
                    var a00 = Vector256.Create(Unsafe.Add(ref br, o0)); var a01 = a00;
                    var a10 = Vector256.Create(Unsafe.Add(ref br, o1)); var a11 = a10;
                    var a20 = Vector256.Create(Unsafe.Add(ref br, o2)); var a21 = a20;
                    var a30 = Vector256.Create(Unsafe.Add(ref br, o3)); var a31 = a30;
                    for (var ci = 0; ci < c; ci++)
                    {
                        for (var ky = 0; ky < k; ky++)
                        {
                            ref var row = ref Unsafe.Add(ref pr, (ci * planeH + oy + ky) * planeW);
                            for (var kx = 0; kx < k; kx++)
                            {
                                var x0 = Vector256.LoadUnsafe(ref row, (nuint)(kx + jb * Lanes));
                                var x1 = Vector256.LoadUnsafe(ref row, (nuint)(kx + j1 * Lanes));
                                ref var w = ref Unsafe.Add(ref kr, ((ky * k + kx) * c + ci) * o);
                                var w0 = Vector256.Create(Unsafe.Add(ref w, o0));
                                var w1 = Vector256.Create(Unsafe.Add(ref w, o1));
                                var w2 = Vector256.Create(Unsafe.Add(ref w, o2));
                                var w3 = Vector256.Create(Unsafe.Add(ref w, o3));
                                a00 = Vector256.MultiplyAddEstimate(w0, x0, a00); a01 = Vector256.MultiplyAddEstimate(w0, x1, a01);
                                a10 = Vector256.MultiplyAddEstimate(w1, x0, a10); a11 = Vector256.MultiplyAddEstimate(w1, x1, a11);
                                a20 = Vector256.MultiplyAddEstimate(w2, x0, a20); a21 = Vector256.MultiplyAddEstimate(w2, x1, a21);
                                a30 = Vector256.MultiplyAddEstimate(w3, x0, a30); a31 = Vector256.MultiplyAddEstimate(w3, x1, a31);
                            }
                        }
                    }

                    ref var t = ref MemoryMarshal.GetReference(tile);
                    a00.StoreUnsafe(ref t, 0); a01.StoreUnsafe(ref t, 8);
                    a10.StoreUnsafe(ref t, 16); a11.StoreUnsafe(ref t, 24);
                    a20.StoreUnsafe(ref t, 32); a21.StoreUnsafe(ref t, 40);
                    a30.StoreUnsafe(ref t, 48); a31.StoreUnsafe(ref t, 56);
                    var channels = Math.Min(4, o - ob);
                    var columns = j1 == jb ? Lanes : 2 * Lanes;
                    for (var oo = 0; oo < channels; oo++)
                    {
                        for (var l = 0; l < columns; l++)
                        {
                            var ox = jb * Lanes + l;
                            if (ox < outW) Unsafe.Add(ref yr, (oy * outW + ox) * o + ob + oo) = tile[oo * 16 + l];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Given dz = d(loss)/d(pre-activation) (channels-last), adds the kernel and bias gradients and, when
    /// <paramref name="dx"/> is not empty, writes d(loss)/d(x).
    /// </summary>
    public static void Backward<T>(
        ReadOnlySpan<float> x, ReadOnlySpan<float> kernel, ReadOnlySpan<float> dz,
        Span<float> dKernel, Span<float> dBias, Span<float> dx, Span<float> scratch)
        where T : IConvShape
    {
        int k = T.KernelSize, c = T.InChannels, o = T.OutChannels, outH = T.OutHeight, outW = T.OutWidth;
        int planeH = PlaneHeight<T>(), planeW = PlaneWidth<T>(), gradW = GradientWidth<T>();
        if (scratch.Length < ScratchLength<T>() || dKernel.Length < k * k * c * o || dBias.Length < o || dz.Length < outH * outW * o) ThrowLength();
        var planes = scratch.Slice(0, c * planeH * planeW);
        var gradients = scratch.Slice(planes.Length, o * outH * gradW);
        ToInputPlanes<T>(x, planes);

        // Gradient planes [o][oy][K + ox], zero around: reads past the edges of the output add nothing.
        gradients.Clear();
        ref var dzr = ref MemoryMarshal.GetReference(dz);
        ref var gr = ref MemoryMarshal.GetReference(gradients);
        ref var br = ref MemoryMarshal.GetReference(dBias);
        for (var oy = 0; oy < outH; oy++)
        {
            for (var ox = 0; ox < outW; ox++)
            {
                ref var pixel = ref Unsafe.Add(ref dzr, (oy * outW + ox) * o);
                ref var target = ref Unsafe.Add(ref gr, oy * gradW + k + ox);
                for (var oi = 0; oi < o; oi++)
                {
                    var g = Unsafe.Add(ref pixel, oi);
                    Unsafe.Add(ref target, oi * outH * gradW) = g;
                    Unsafe.Add(ref br, oi) += g;
                }
            }
        }

        KernelGradient<T>(planes, gradients, dKernel);
        if (!dx.IsEmpty) InputGradient<T>(gradients, kernel, dx);
    }

    private static void KernelGradient<T>(ReadOnlySpan<float> planes, ReadOnlySpan<float> gradients, Span<float> dKernel)
        where T : IConvShape
    {
        int k = T.KernelSize, c = T.InChannels, o = T.OutChannels, outH = T.OutHeight;
        int planeH = PlaneHeight<T>(), planeW = PlaneWidth<T>(), gradW = GradientWidth<T>();
        var chunks = RoundUp(T.OutWidth) / Lanes;
        ref var pr = ref MemoryMarshal.GetReference(planes);
        ref var gr = ref MemoryMarshal.GetReference(gradients);
        ref var dr = ref MemoryMarshal.GetReference(dKernel);
        for (var ci = 0; ci < c; ci++)
        {
            for (var ky = 0; ky < k; ky++)
            {
                for (var kx = 0; kx < k; kx++)
                {
                    for (var ob = 0; ob < o; ob += 4)
                    {
                        int o0 = ob, o1 = Math.Min(ob + 1, o - 1), o2 = Math.Min(ob + 2, o - 1), o3 = Math.Min(ob + 3, o - 1);
                        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default;
                        Vector256<float> s20 = default, s21 = default, s30 = default, s31 = default;
                        for (var oy = 0; oy < outH; oy++)
                        {
                            ref var xrow = ref Unsafe.Add(ref pr, (ci * planeH + oy + ky) * planeW + kx);
                            ref var g0 = ref Unsafe.Add(ref gr, (o0 * outH + oy) * gradW + k);
                            ref var g1 = ref Unsafe.Add(ref gr, (o1 * outH + oy) * gradW + k);
                            ref var g2 = ref Unsafe.Add(ref gr, (o2 * outH + oy) * gradW + k);
                            ref var g3 = ref Unsafe.Add(ref gr, (o3 * outH + oy) * gradW + k);
                            var j = 0;
                            for (; j + 2 <= chunks; j += 2)
                            {
                                var xa = Vector256.LoadUnsafe(ref xrow, (nuint)(j * Lanes));
                                var xb = Vector256.LoadUnsafe(ref xrow, (nuint)(j * Lanes + Lanes));
                                s00 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g0, (nuint)(j * Lanes)), xa, s00);
                                s01 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g0, (nuint)(j * Lanes + Lanes)), xb, s01);
                                s10 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g1, (nuint)(j * Lanes)), xa, s10);
                                s11 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g1, (nuint)(j * Lanes + Lanes)), xb, s11);
                                s20 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g2, (nuint)(j * Lanes)), xa, s20);
                                s21 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g2, (nuint)(j * Lanes + Lanes)), xb, s21);
                                s30 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g3, (nuint)(j * Lanes)), xa, s30);
                                s31 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g3, (nuint)(j * Lanes + Lanes)), xb, s31);
                            }

                            if (j < chunks)
                            {
                                var xa = Vector256.LoadUnsafe(ref xrow, (nuint)(j * Lanes));
                                s00 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g0, (nuint)(j * Lanes)), xa, s00);
                                s10 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g1, (nuint)(j * Lanes)), xa, s10);
                                s20 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g2, (nuint)(j * Lanes)), xa, s20);
                                s30 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g3, (nuint)(j * Lanes)), xa, s30);
                            }
                        }

                        ref var target = ref Unsafe.Add(ref dr, ((ky * k + kx) * c + ci) * o + ob);
                        var channels = Math.Min(4, o - ob);
                        Unsafe.Add(ref target, 0) += Vector256.Sum(s00 + s01);
                        if (channels > 1) Unsafe.Add(ref target, 1) += Vector256.Sum(s10 + s11);
                        if (channels > 2) Unsafe.Add(ref target, 2) += Vector256.Sum(s20 + s21);
                        if (channels > 3) Unsafe.Add(ref target, 3) += Vector256.Sum(s30 + s31);
                    }
                }
            }
        }
    }

    private static void InputGradient<T>(ReadOnlySpan<float> gradients, ReadOnlySpan<float> kernel, Span<float> dx)
        where T : IConvShape
    {
        int k = T.KernelSize, c = T.InChannels, o = T.OutChannels, outH = T.OutHeight;
        int inH = T.InHeight, inW = T.InWidth, padTop = T.PadTop, padLeft = T.PadLeft, gradW = GradientWidth<T>();
        if (dx.Length < inH * inW * c) ThrowLength();
        var chunks = RoundUp(inW) / Lanes;
        ref var gr = ref MemoryMarshal.GetReference(gradients);
        ref var kr = ref MemoryMarshal.GetReference(kernel);
        ref var xr = ref MemoryMarshal.GetReference(dx);
        Span<float> tile = stackalloc float[8 * Lanes];
        for (var iy = 0; iy < inH; iy++)
        {
            for (var cb = 0; cb < c; cb += 4)
            {
                int c0 = cb, c1 = Math.Min(cb + 1, c - 1), c2 = Math.Min(cb + 2, c - 1), c3 = Math.Min(cb + 3, c - 1);
                for (var jb = 0; jb < chunks; jb += 2)
                {
                    var j1 = Math.Min(jb + 1, chunks - 1);
                    Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
                    Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
                    for (var ky = 0; ky < k; ky++)
                    {
                        // dx[iy, ix] receives dz[oy, ox] through kernel tap (ky, kx) when oy = iy + padTop - ky.
                        var oy = iy + padTop - ky;
                        if ((uint)oy >= (uint)outH) continue;
                        for (var kx = 0; kx < k; kx++)
                        {
                            var column = k + padLeft - kx;
                            ref var w = ref Unsafe.Add(ref kr, (ky * k + kx) * c * o);
                            for (var oi = 0; oi < o; oi++)
                            {
                                ref var grow = ref Unsafe.Add(ref gr, (oi * outH + oy) * gradW + column);
                                var d0 = Vector256.LoadUnsafe(ref grow, (nuint)(jb * Lanes));
                                var d1 = Vector256.LoadUnsafe(ref grow, (nuint)(j1 * Lanes));
                                var w0 = Vector256.Create(Unsafe.Add(ref w, c0 * o + oi));
                                var w1 = Vector256.Create(Unsafe.Add(ref w, c1 * o + oi));
                                var w2 = Vector256.Create(Unsafe.Add(ref w, c2 * o + oi));
                                var w3 = Vector256.Create(Unsafe.Add(ref w, c3 * o + oi));
                                a00 = Vector256.MultiplyAddEstimate(w0, d0, a00); a01 = Vector256.MultiplyAddEstimate(w0, d1, a01);
                                a10 = Vector256.MultiplyAddEstimate(w1, d0, a10); a11 = Vector256.MultiplyAddEstimate(w1, d1, a11);
                                a20 = Vector256.MultiplyAddEstimate(w2, d0, a20); a21 = Vector256.MultiplyAddEstimate(w2, d1, a21);
                                a30 = Vector256.MultiplyAddEstimate(w3, d0, a30); a31 = Vector256.MultiplyAddEstimate(w3, d1, a31);
                            }
                        }
                    }

                    ref var t = ref MemoryMarshal.GetReference(tile);
                    a00.StoreUnsafe(ref t, 0); a01.StoreUnsafe(ref t, 8);
                    a10.StoreUnsafe(ref t, 16); a11.StoreUnsafe(ref t, 24);
                    a20.StoreUnsafe(ref t, 32); a21.StoreUnsafe(ref t, 40);
                    a30.StoreUnsafe(ref t, 48); a31.StoreUnsafe(ref t, 56);
                    var channels = Math.Min(4, c - cb);
                    var columns = j1 == jb ? Lanes : 2 * Lanes;
                    for (var cc = 0; cc < channels; cc++)
                    {
                        for (var l = 0; l < columns; l++)
                        {
                            var ix = jb * Lanes + l;
                            if (ix < inW) Unsafe.Add(ref xr, (iy * inW + ix) * c + cb + cc) = tile[cc * 16 + l];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Copies channels-last x into zero-padded planes [channel][PadTop + row][PadLeft + column].</summary>
    private static void ToInputPlanes<T>(ReadOnlySpan<float> x, Span<float> planes) where T : IConvShape
    {
        int inH = T.InHeight, inW = T.InWidth, c = T.InChannels, planeH = PlaneHeight<T>(), planeW = PlaneWidth<T>();
        if (x.Length < inH * inW * c || planes.Length < c * planeH * planeW) ThrowLength();
        planes.Clear();
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var pr = ref MemoryMarshal.GetReference(planes);
        for (var iy = 0; iy < inH; iy++)
        {
            for (var ix = 0; ix < inW; ix++)
            {
                ref var source = ref Unsafe.Add(ref xr, (iy * inW + ix) * c);
                ref var target = ref Unsafe.Add(ref pr, (iy + T.PadTop) * planeW + ix + T.PadLeft);
                for (var ci = 0; ci < c; ci++) Unsafe.Add(ref target, ci * planeH * planeW) = Unsafe.Add(ref source, ci);
            }
        }
    }

    private static void ThrowLength() =>
        throw new ArgumentException("A convolution buffer is shorter than the layer's shape requires.");
}

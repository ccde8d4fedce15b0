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
                    var secondChunk = (nuint)((j1 - jb) * Lanes);
                    for (var ci = 0; ci < c; ci++)
                    {
                        for (var ky = 0; ky < k; ky++)
                        {
                            // Walk the kernel row and the input row together: one tap to the right is one column
                            // further in the input and c·o floats further in the [kh, kw, in, out] kernel.
                            ref var input = ref Unsafe.Add(ref pr, (ci * planeH + oy + ky) * planeW + jb * Lanes);
                            ref var w = ref Unsafe.Add(ref kr, (ky * k * c + ci) * o);
                            for (var kx = 0; kx < k; kx++)
                            {
                                var x0 = Vector256.LoadUnsafe(ref input);
                                var x1 = Vector256.LoadUnsafe(ref input, secondChunk);
                                var w0 = Vector256.Create(Unsafe.Add(ref w, o0));
                                var w1 = Vector256.Create(Unsafe.Add(ref w, o1));
                                var w2 = Vector256.Create(Unsafe.Add(ref w, o2));
                                var w3 = Vector256.Create(Unsafe.Add(ref w, o3));
                                input = ref Unsafe.Add(ref input, 1);
                                w = ref Unsafe.Add(ref w, c * o);
                                a00 = Vector256.MultiplyAddEstimate(w0, x0, a00); a01 = Vector256.MultiplyAddEstimate(w0, x1, a01);
                                a10 = Vector256.MultiplyAddEstimate(w1, x0, a10); a11 = Vector256.MultiplyAddEstimate(w1, x1, a11);
                                a20 = Vector256.MultiplyAddEstimate(w2, x0, a20); a21 = Vector256.MultiplyAddEstimate(w2, x1, a21);
                                a30 = Vector256.MultiplyAddEstimate(w3, x0, a30); a31 = Vector256.MultiplyAddEstimate(w3, x1, a31);
                            }
                        }
                    }

                    StoreTile(tile, a00, a01, a10, a11, a20, a21, a30, a31,
                        ref Unsafe.Add(ref yr, oy * outW * o), outW, o, ob, jb * Lanes, twoChunks: j1 != jb);
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

    /// <summary>
    /// dKernel[ky, kx, c, o] += Σ over output pixels of dz[o] · x[c] at the tap's offset. Eight output channels share
    /// every input-row load; their eight vector sums are reduced together and added to eight adjacent weights.
    /// </summary>
    private static void KernelGradient<T>(ReadOnlySpan<float> planes, ReadOnlySpan<float> gradients, Span<float> dKernel)
        where T : IConvShape
    {
        int k = T.KernelSize, c = T.InChannels, o = T.OutChannels, outH = T.OutHeight;
        int planeH = PlaneHeight<T>(), planeW = PlaneWidth<T>(), gradW = GradientWidth<T>();
        var chunks = RoundUp(T.OutWidth) / Lanes;
        ref var pr = ref MemoryMarshal.GetReference(planes);
        ref var gr = ref MemoryMarshal.GetReference(gradients);
        ref var dr = ref MemoryMarshal.GetReference(dKernel);
        var gradientPlane = outH * gradW;
        for (var ob = 0; ob < o; ob += 8)
        {
            // Channels past the last one repeat it; their sums are dropped.
            ref var g0 = ref Unsafe.Add(ref gr, ob * gradientPlane + k);
            ref var g1 = ref Unsafe.Add(ref gr, Math.Min(ob + 1, o - 1) * gradientPlane + k);
            ref var g2 = ref Unsafe.Add(ref gr, Math.Min(ob + 2, o - 1) * gradientPlane + k);
            ref var g3 = ref Unsafe.Add(ref gr, Math.Min(ob + 3, o - 1) * gradientPlane + k);
            ref var g4 = ref Unsafe.Add(ref gr, Math.Min(ob + 4, o - 1) * gradientPlane + k);
            ref var g5 = ref Unsafe.Add(ref gr, Math.Min(ob + 5, o - 1) * gradientPlane + k);
            ref var g6 = ref Unsafe.Add(ref gr, Math.Min(ob + 6, o - 1) * gradientPlane + k);
            ref var g7 = ref Unsafe.Add(ref gr, Math.Min(ob + 7, o - 1) * gradientPlane + k);
            var channels = Math.Min(8, o - ob);
            for (var ci = 0; ci < c; ci++)
            {
                for (var ky = 0; ky < k; ky++)
                {
                    for (var kx = 0; kx < k; kx++)
                    {
                        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                        Vector256<float> s4 = default, s5 = default, s6 = default, s7 = default;
                        ref var xplane = ref Unsafe.Add(ref pr, (ci * planeH + ky) * planeW + kx);
                        for (var oy = 0; oy < outH; oy++)
                        {
                            ref var xrow = ref Unsafe.Add(ref xplane, oy * planeW);
                            var grow = (nuint)(oy * gradW);
                            for (var j = 0; j < chunks; j++)
                            {
                                var offset = grow + (nuint)(j * Lanes);
                                var xv = Vector256.LoadUnsafe(ref xrow, (nuint)(j * Lanes));
                                s0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g0, offset), xv, s0);
                                s1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g1, offset), xv, s1);
                                s2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g2, offset), xv, s2);
                                s3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g3, offset), xv, s3);
                                s4 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g4, offset), xv, s4);
                                s5 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g5, offset), xv, s5);
                                s6 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g6, offset), xv, s6);
                                s7 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref g7, offset), xv, s7);
                            }
                        }

                        var sums = Sum8(s0, s1, s2, s3, s4, s5, s6, s7);
                        ref var target = ref Unsafe.Add(ref dr, ((ky * k + kx) * c + ci) * o + ob);
                        if (channels == 8)
                        {
                            (Vector256.LoadUnsafe(ref target) + sums).StoreUnsafe(ref target);
                        }
                        else
                        {
                            for (var oo = 0; oo < channels; oo++) Unsafe.Add(ref target, oo) += sums.GetElement(oo);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The horizontal sums of eight vectors, as one vector: [Σv0, Σv1, ..., Σv7].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sum8(
        Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5, Vector256<float> v6, Vector256<float> v7)
    {
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            var a = System.Runtime.Intrinsics.X86.Avx.HorizontalAdd(v0, v1);
            var b = System.Runtime.Intrinsics.X86.Avx.HorizontalAdd(v2, v3);
            var e = System.Runtime.Intrinsics.X86.Avx.HorizontalAdd(v4, v5);
            var f = System.Runtime.Intrinsics.X86.Avx.HorizontalAdd(v6, v7);
            var ab = System.Runtime.Intrinsics.X86.Avx.HorizontalAdd(a, b);   // per 128-bit half: v0 v1 v2 v3
            var ef = System.Runtime.Intrinsics.X86.Avx.HorizontalAdd(e, f);   // per 128-bit half: v4 v5 v6 v7
            var low = System.Runtime.Intrinsics.X86.Avx.Permute2x128(ab, ef, 0x20);
            var high = System.Runtime.Intrinsics.X86.Avx.Permute2x128(ab, ef, 0x31);
            return low + high;
        }

        return Vector256.Create(
            Vector256.Sum(v0), Vector256.Sum(v1), Vector256.Sum(v2), Vector256.Sum(v3),
            Vector256.Sum(v4), Vector256.Sum(v5), Vector256.Sum(v6), Vector256.Sum(v7));
    }

    private static void InputGradient<T>(ReadOnlySpan<float> gradients, ReadOnlySpan<float> kernel, Span<float> dx)
        where T : IConvShape
    {
        int k = T.KernelSize, c = T.InChannels, o = T.OutChannels, outH = T.OutHeight;
        int inH = T.InHeight, inW = T.InWidth, padTop = T.PadTop, padLeft = T.PadLeft, gradW = GradientWidth<T>();
        if (dx.Length < inH * inW * c) ThrowLength();
        var chunks = RoundUp(inW) / Lanes;
        var gradientPlane = outH * gradW;
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
                            ref var w0r = ref Unsafe.Add(ref w, c0 * o);
                            ref var w1r = ref Unsafe.Add(ref w, c1 * o);
                            ref var w2r = ref Unsafe.Add(ref w, c2 * o);
                            ref var w3r = ref Unsafe.Add(ref w, c3 * o);
                            ref var grow = ref Unsafe.Add(ref gr, oy * gradW + column + jb * Lanes);
                            var secondChunk = (nuint)((j1 - jb) * Lanes);
                            for (var oi = 0; oi < o; oi++)
                            {
                                var d0 = Vector256.LoadUnsafe(ref grow);
                                var d1 = Vector256.LoadUnsafe(ref grow, secondChunk);
                                var w0 = Vector256.Create(Unsafe.Add(ref w0r, oi));
                                var w1 = Vector256.Create(Unsafe.Add(ref w1r, oi));
                                var w2 = Vector256.Create(Unsafe.Add(ref w2r, oi));
                                var w3 = Vector256.Create(Unsafe.Add(ref w3r, oi));
                                grow = ref Unsafe.Add(ref grow, gradientPlane);
                                a00 = Vector256.MultiplyAddEstimate(w0, d0, a00); a01 = Vector256.MultiplyAddEstimate(w0, d1, a01);
                                a10 = Vector256.MultiplyAddEstimate(w1, d0, a10); a11 = Vector256.MultiplyAddEstimate(w1, d1, a11);
                                a20 = Vector256.MultiplyAddEstimate(w2, d0, a20); a21 = Vector256.MultiplyAddEstimate(w2, d1, a21);
                                a30 = Vector256.MultiplyAddEstimate(w3, d0, a30); a31 = Vector256.MultiplyAddEstimate(w3, d1, a31);
                            }
                        }
                    }

                    StoreTile(tile, a00, a01, a10, a11, a20, a21, a30, a31,
                        ref Unsafe.Add(ref xr, iy * inW * c), inW, c, cb, jb * Lanes, twoChunks: j1 != jb);
                }
            }
        }
    }

    /// <summary>
    /// Writes a register tile — 4 channels (rows a0x..a3x) by 1 or 2 vectors of columns — into one row of a channels-last
    /// image that is <paramref name="width"/> pixels wide with <paramref name="channels"/> channels, dropping the
    /// channels and columns past the image's edge (they were computed only to keep the tile full).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile(
        Span<float> tile,
        Vector256<float> a00, Vector256<float> a01, Vector256<float> a10, Vector256<float> a11,
        Vector256<float> a20, Vector256<float> a21, Vector256<float> a30, Vector256<float> a31,
        ref float row, int width, int channels, int firstChannel, int firstColumn, bool twoChunks)
    {
        ref var t = ref MemoryMarshal.GetReference(tile);
        a00.StoreUnsafe(ref t, 0); a01.StoreUnsafe(ref t, 8);
        a10.StoreUnsafe(ref t, 16); a11.StoreUnsafe(ref t, 24);
        a20.StoreUnsafe(ref t, 32); a21.StoreUnsafe(ref t, 40);
        a30.StoreUnsafe(ref t, 48); a31.StoreUnsafe(ref t, 56);
        var tileChannels = Math.Min(4, channels - firstChannel);
        var columns = Math.Min(twoChunks ? 2 * Lanes : Lanes, width - firstColumn);
        for (var k = 0; k < tileChannels; k++)
        {
            for (var l = 0; l < columns; l++)
            {
                Unsafe.Add(ref row, (firstColumn + l) * channels + firstChannel + k) = tile[k * 16 + l];
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

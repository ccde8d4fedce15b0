using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>The constant shape of one max-pooling layer; generated code declares a struct of literals per layer.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IPoolShape
{
    /// <summary>Input width.</summary>
    static abstract int InWidth { get; }

    /// <summary>Channels (unchanged by pooling).</summary>
    static abstract int Channels { get; }

    /// <summary>Output height.</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width.</summary>
    static abstract int OutWidth { get; }

    /// <summary>Side of the square window.</summary>
    static abstract int PoolSize { get; }

    /// <summary>Step of the window.</summary>
    static abstract int Stride { get; }
}

/// <summary>
/// Max pooling on channels-last activations, vectorised over channels and free of data-dependent branches: on real
/// data the "is this the new maximum?" test is a coin flip, and mispredicted branches used to cost more than the
/// arithmetic. The backward pass sends each window's gradient to its first maximum, as TensorFlow does.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PoolKernels
{
    /// <summary>y = the maximum of each window.</summary>
    public static void MaxForward<T>(ReadOnlySpan<float> x, Span<float> y) where T : IPoolShape
    {
        int inW = T.InWidth, c = T.Channels, outH = T.OutHeight, outW = T.OutWidth, p = T.PoolSize, s = T.Stride;
        if (x.Length < ((outH - 1) * s + p) * inW * c || y.Length < outH * outW * c) ThrowLength();
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        for (var oy = 0; oy < outH; oy++)
        {
            for (var ox = 0; ox < outW; ox++)
            {
                ref var corner = ref Unsafe.Add(ref xr, (oy * s * inW + ox * s) * c);
                ref var output = ref Unsafe.Add(ref yr, (oy * outW + ox) * c);
                var ch = 0;
                for (; ch + 8 <= c; ch += 8) WindowMax256<T>(ref corner, (nuint)ch).StoreUnsafe(ref output, (nuint)ch);
                for (; ch + 4 <= c; ch += 4) WindowMax128<T>(ref corner, (nuint)ch).StoreUnsafe(ref output, (nuint)ch);
                for (; ch < c; ch++) Unsafe.Add(ref output, ch) = WindowMax<T>(ref corner, ch);
            }
        }
    }

    /// <summary>dx = 0, then each window's dy goes to the window's first maximum (row by row, left to right).</summary>
    public static void MaxBackward<T>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) where T : IPoolShape
    {
        int inW = T.InWidth, c = T.Channels, outH = T.OutHeight, outW = T.OutWidth, p = T.PoolSize, s = T.Stride;
        var inputLength = ((outH - 1) * s + p) * inW * c;
        if (x.Length < inputLength || dx.Length < inputLength || dy.Length < outH * outW * c) ThrowLength();
        dx.Clear();
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var gr = ref MemoryMarshal.GetReference(dy);
        ref var dr = ref MemoryMarshal.GetReference(dx);
        for (var oy = 0; oy < outH; oy++)
        {
            for (var ox = 0; ox < outW; ox++)
            {
                var cornerIndex = (oy * s * inW + ox * s) * c;
                ref var corner = ref Unsafe.Add(ref xr, cornerIndex);
                ref var target = ref Unsafe.Add(ref dr, cornerIndex);
                ref var gradient = ref Unsafe.Add(ref gr, (oy * outW + ox) * c);
                var ch = 0;
                for (; ch + 8 <= c; ch += 8)
                {
                    var m = WindowMax256<T>(ref corner, (nuint)ch);
                    var g = Vector256.LoadUnsafe(ref gradient, (nuint)ch);
                    var taken = Vector256<float>.Zero;
                    for (var cell = 0; cell < p * p; cell++)
                    {
                        var at = Offset<T>(cell) + (nuint)ch;
                        var hit = Vector256.AndNot(Vector256.Equals(Vector256.LoadUnsafe(ref corner, at), m), taken);
                        (Vector256.LoadUnsafe(ref target, at) + (g & hit)).StoreUnsafe(ref target, at);
                        taken |= hit;
                    }
                }

                for (; ch + 4 <= c; ch += 4)
                {
                    var m = WindowMax128<T>(ref corner, (nuint)ch);
                    var g = Vector128.LoadUnsafe(ref gradient, (nuint)ch);
                    var taken = Vector128<float>.Zero;
                    for (var cell = 0; cell < p * p; cell++)
                    {
                        var at = Offset<T>(cell) + (nuint)ch;
                        var hit = Vector128.AndNot(Vector128.Equals(Vector128.LoadUnsafe(ref corner, at), m), taken);
                        (Vector128.LoadUnsafe(ref target, at) + (g & hit)).StoreUnsafe(ref target, at);
                        taken |= hit;
                    }
                }

                for (; ch < c; ch++)
                {
                    var best = ch;
                    var m = Unsafe.Add(ref corner, ch);
                    for (var cell = 1; cell < p * p; cell++)
                    {
                        var at = (int)Offset<T>(cell) + ch;
                        var v = Unsafe.Add(ref corner, at);
                        best = v > m ? at : best;
                        m = MathF.Max(m, v);
                    }

                    Unsafe.Add(ref target, best) += Unsafe.Add(ref gradient, ch);
                }
            }
        }
    }

    // The maximum over one window for 8, 4 or 1 channels. The common 2x2 window is written out; the JIT drops the
    // other branch because PoolSize is a constant of the specialisation.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WindowMax256<T>(ref float corner, nuint ch) where T : IPoolShape
    {
        if (T.PoolSize == 2)
        {
            return Vector256.Max(
                Vector256.Max(Vector256.LoadUnsafe(ref corner, ch), Vector256.LoadUnsafe(ref corner, Offset<T>(1) + ch)),
                Vector256.Max(Vector256.LoadUnsafe(ref corner, Offset<T>(2) + ch), Vector256.LoadUnsafe(ref corner, Offset<T>(3) + ch)));
        }

        var m = Vector256.LoadUnsafe(ref corner, ch);
        for (var cell = 1; cell < T.PoolSize * T.PoolSize; cell++) m = Vector256.Max(m, Vector256.LoadUnsafe(ref corner, Offset<T>(cell) + ch));
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> WindowMax128<T>(ref float corner, nuint ch) where T : IPoolShape
    {
        if (T.PoolSize == 2)
        {
            return Vector128.Max(
                Vector128.Max(Vector128.LoadUnsafe(ref corner, ch), Vector128.LoadUnsafe(ref corner, Offset<T>(1) + ch)),
                Vector128.Max(Vector128.LoadUnsafe(ref corner, Offset<T>(2) + ch), Vector128.LoadUnsafe(ref corner, Offset<T>(3) + ch)));
        }

        var m = Vector128.LoadUnsafe(ref corner, ch);
        for (var cell = 1; cell < T.PoolSize * T.PoolSize; cell++) m = Vector128.Max(m, Vector128.LoadUnsafe(ref corner, Offset<T>(cell) + ch));
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WindowMax<T>(ref float corner, int ch) where T : IPoolShape
    {
        var m = Unsafe.Add(ref corner, ch);
        for (var cell = 1; cell < T.PoolSize * T.PoolSize; cell++) m = MathF.Max(m, Unsafe.Add(ref corner, (nint)Offset<T>(cell) + ch));
        return m;
    }

    /// <summary>Floats from a window's top-left value to window cell number <paramref name="cell"/> (row-major), channel 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Offset<T>(int cell) where T : IPoolShape =>
        (nuint)(((cell / T.PoolSize) * T.InWidth + cell % T.PoolSize) * T.Channels);

    private static void ThrowLength() =>
        throw new ArgumentException("A pooling buffer is shorter than the layer's shape requires.");
}

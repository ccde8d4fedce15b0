using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Cpu;

/// <summary>
/// The vector operations the CPU kernels are written against, once, for every vector width: a kernel is generic over
/// <c>TOps : IVectorOps&lt;TVec&gt;</c> and runs as <see cref="Ops512"/> (AVX-512), <see cref="Ops256"/> (AVX2) or
/// <see cref="Ops128"/> (SSE, NEON) — whichever <see cref="Simd.Run{TDispatch}"/> picks for the machine. The members are
/// static abstract, so the JIT compiles one specialised copy per width with every call inlined.
/// </summary>
/// <remarks>Pointers, not refs: masked loads and stores exist only for pointers, and kernels pin their buffers once per call.</remarks>
internal unsafe interface IVectorOps<TVec> where TVec : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Lanes { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Broadcast(float value);

    static abstract TVec Load(float* source);

    static abstract void Store(float* target, TVec value);

    /// <summary>A mask selecting the first <paramref name="count"/> lanes (0 ≤ count ≤ Lanes), for the masked operations.</summary>
    static abstract TVec FirstLanes(int count);

    /// <summary>The lanes of <paramref name="mask"/> from memory, zeros elsewhere; memory outside the mask is never touched.</summary>
    static abstract TVec LoadMasked(float* source, TVec mask);

    /// <summary>Writes the lanes of <paramref name="mask"/>; memory outside the mask is never touched.</summary>
    static abstract void StoreMasked(float* target, TVec value, TVec mask);

    /// <summary>a · b + c, fused (one rounding).</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec Add(TVec a, TVec b);

    static abstract TVec Subtract(TVec a, TVec b);

    static abstract TVec Multiply(TVec a, TVec b);

    static abstract TVec Divide(TVec a, TVec b);

    static abstract TVec Max(TVec a, TVec b);

    static abstract TVec Min(TVec a, TVec b);

    static abstract TVec Exp(TVec a);

    /// <summary>All-ones lanes where a &gt; b (a NaN compares false).</summary>
    static abstract TVec GreaterThan(TVec a, TVec b);

    /// <summary>All-ones lanes where a == b.</summary>
    static abstract TVec Equal(TVec a, TVec b);

    static abstract TVec And(TVec a, TVec b);

    static abstract TVec AndNot(TVec a, TVec notMask);

    static abstract TVec Or(TVec a, TVec b);

    /// <summary>The sum of all lanes, added pairwise in a fixed order (the same on every machine of that width).</summary>
    static abstract float Sum(TVec a);

    /// <summary>Lane j of the result is lane <c>indices[j]</c> of <paramref name="value"/> (indices: int lanes in [0, Lanes)).</summary>
    static abstract TVec Permute(TVec value, TVec indices);
}

/// <summary>AVX-512: 16 floats, native masked loads and stores.</summary>
internal readonly unsafe struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Lanes => 16;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* target, Vector512<float> value) => value.Store(target);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadMasked(float* source, Vector512<float> mask) => Avx512F.MaskLoad(source, mask, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreMasked(float* target, Vector512<float> value, Vector512<float> mask) => Avx512F.MaskStore(target, mask, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> a) => Vector512.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Equal(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> AndNot(Vector512<float> a, Vector512<float> notMask) => Vector512.AndNot(a, notMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> a) => Ops256.Sum(a.GetLower() + a.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Permute(Vector512<float> value, Vector512<float> indices) => Avx512F.PermuteVar16x32(value, indices.AsInt32());
}

/// <summary>AVX2: 8 floats; masked loads and stores through AVX's vmaskmovps.</summary>
internal readonly unsafe struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Lanes => 8;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* target, Vector256<float> value) => value.Store(target);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadMasked(float* source, Vector256<float> mask) => Avx.MaskLoad(source, mask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreMasked(float* target, Vector256<float> value, Vector256<float> mask) => Avx.MaskStore(target, mask, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> a) => Vector256.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Equal(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> AndNot(Vector256<float> a, Vector256<float> notMask) => Vector256.AndNot(a, notMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> a) => Ops128.Sum(a.GetLower() + a.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Permute(Vector256<float> value, Vector256<float> indices) =>
        Avx2.IsSupported ? Avx2.PermuteVar8x32(value, indices.AsInt32()) : Vector256.Shuffle(value, indices.AsInt32());
}

/// <summary>
/// 128-bit vectors (SSE on x64, NEON on Arm64): 4 floats. Masked loads and stores go lane by lane, which is slow but
/// only touches the masked lanes; the kernels use them for the tail of a row only.
/// </summary>
internal readonly unsafe struct Ops128 : IVectorOps<Vector128<float>>
{
    public static int Lanes => 4;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* target, Vector128<float> value) => value.Store(target);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FirstLanes(int count) =>
        Vector128.LessThan(Vector128<int>.Indices, Vector128.Create(count)).AsSingle();

    public static Vector128<float> LoadMasked(float* source, Vector128<float> mask)
    {
        var lanes = Vector128<float>.Zero;
        for (var i = 0; i < 4; i++)
        {
            if (mask.AsInt32().GetElement(i) != 0) lanes = lanes.WithElement(i, source[i]);
        }

        return lanes;
    }

    public static void StoreMasked(float* target, Vector128<float> value, Vector128<float> mask)
    {
        for (var i = 0; i < 4; i++)
        {
            if (mask.AsInt32().GetElement(i) != 0) target[i] = value.GetElement(i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> a) => Vector128.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Equal(Vector128<float> a, Vector128<float> b) => Vector128.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> AndNot(Vector128<float> a, Vector128<float> notMask) => Vector128.AndNot(a, notMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Or(Vector128<float> a, Vector128<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> a) => (a.GetElement(0) + a.GetElement(1)) + (a.GetElement(2) + a.GetElement(3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Permute(Vector128<float> value, Vector128<float> indices) =>
        Avx.IsSupported ? Avx.PermuteVar(value, indices.AsInt32()) : Vector128.Shuffle(value, indices.AsInt32());
}

/// <summary>A kernel body generic over the vector width; <see cref="Simd.Run{TDispatch}"/> instantiates it for the machine.</summary>
internal interface IWidthGeneric
{
    void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged;
}

/// <summary>Picks the widest vector the machine runs natively, once per call site (the JIT folds the tests).</summary>
internal static class Simd
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TDispatch>(ref TDispatch body) where TDispatch : struct, IWidthGeneric
    {
        switch (Lanes)
        {
            case 16: body.Run<Ops512, Vector512<float>>(); break;
            case 8: body.Run<Ops256, Vector256<float>>(); break;
            default: body.Run<Ops128, Vector128<float>>(); break;
        }
    }

    /// <summary>Lanes of the vectors <see cref="Run{TDispatch}"/> uses: the widest the machine runs natively, unless narrowed.</summary>
    public static int Lanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var native = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 16 : Vector256.IsHardwareAccelerated && Avx.IsSupported ? 8 : 4;
            return s_narrowed is { } lanes && lanes < native ? lanes : native;
        }
    }

    private static int? s_narrowed;

    /// <summary>
    /// Runs the kernels with vectors of at most <paramref name="lanes"/> floats (8 or 4; null: the machine's widest) until
    /// set again, so the tests check the AVX2 and 128-bit code on an AVX-512 machine. Not for concurrent use.
    /// </summary>
    internal static void NarrowForTests(int? lanes) => s_narrowed = lanes;
}

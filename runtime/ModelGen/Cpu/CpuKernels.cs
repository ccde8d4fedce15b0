using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>
/// The small vectorized primitives that generated CPU code is built from. Matrices are row-major; every method
/// accumulates (+=) unless its name says otherwise. Called by generated code; not meant as a general BLAS.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CpuKernels
{
    /// <summary>acc[o] += Σ_i x[i] · w[i, o], with w of shape [x.Length, acc.Length].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void VecMat(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> acc)
    {
        int m = x.Length, n = acc.Length;
        if (w.Length < m * n) ThrowShape(nameof(VecMat));
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var wr = ref MemoryMarshal.GetReference(w);
        ref var ar = ref MemoryMarshal.GetReference(acc);
        var o = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 16 columns at a time, even and odd rows in separate accumulators: four independent FMA chains hide
            // the FMA latency that a single running sum would wait on.
            for (; o + 16 <= n; o += 16)
            {
                var a0 = Vector256.LoadUnsafe(ref ar, (nuint)o);
                var a1 = Vector256.LoadUnsafe(ref ar, (nuint)(o + 8));
                var b0 = Vector256<float>.Zero;
                var b1 = Vector256<float>.Zero;
                var i = 0;
                for (; i + 2 <= m; i += 2)
                {
                    ref var row = ref Unsafe.Add(ref wr, i * n + o);
                    ref var next = ref Unsafe.Add(ref row, n);
                    var xi = Vector256.Create(Unsafe.Add(ref xr, i));
                    var xj = Vector256.Create(Unsafe.Add(ref xr, i + 1));
                    a0 = Vector256.MultiplyAddEstimate(xi, Vector256.LoadUnsafe(ref row), a0);
                    a1 = Vector256.MultiplyAddEstimate(xi, Vector256.LoadUnsafe(ref row, 8), a1);
                    b0 = Vector256.MultiplyAddEstimate(xj, Vector256.LoadUnsafe(ref next), b0);
                    b1 = Vector256.MultiplyAddEstimate(xj, Vector256.LoadUnsafe(ref next, 8), b1);
                }

                if (i < m)
                {
                    ref var row = ref Unsafe.Add(ref wr, i * n + o);
                    var xi = Vector256.Create(Unsafe.Add(ref xr, i));
                    a0 = Vector256.MultiplyAddEstimate(xi, Vector256.LoadUnsafe(ref row), a0);
                    a1 = Vector256.MultiplyAddEstimate(xi, Vector256.LoadUnsafe(ref row, 8), a1);
                }

                (a0 + b0).StoreUnsafe(ref ar, (nuint)o);
                (a1 + b1).StoreUnsafe(ref ar, (nuint)(o + 8));
            }

            for (; o + 8 <= n; o += 8)
            {
                var a0 = Vector256.LoadUnsafe(ref ar, (nuint)o);
                var b0 = Vector256<float>.Zero;
                var i = 0;
                for (; i + 2 <= m; i += 2)
                {
                    ref var row = ref Unsafe.Add(ref wr, i * n + o);
                    a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref xr, i)), Vector256.LoadUnsafe(ref row), a0);
                    b0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref xr, i + 1)), Vector256.LoadUnsafe(ref Unsafe.Add(ref row, n)), b0);
                }

                if (i < m) a0 = Vector256.MultiplyAddEstimate(Vector256.Create(Unsafe.Add(ref xr, i)), Vector256.LoadUnsafe(ref Unsafe.Add(ref wr, i * n + o)), a0);
                (a0 + b0).StoreUnsafe(ref ar, (nuint)o);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; o + 4 <= n; o += 4)
            {
                var a0 = Vector128.LoadUnsafe(ref ar, (nuint)o);
                for (var i = 0; i < m; i++)
                {
                    a0 = Vector128.MultiplyAddEstimate(Vector128.Create(Unsafe.Add(ref xr, i)), Vector128.LoadUnsafe(ref Unsafe.Add(ref wr, i * n + o)), a0);
                }

                a0.StoreUnsafe(ref ar, (nuint)o);
            }
        }

        for (; o < n; o++)
        {
            var sum = Unsafe.Add(ref ar, o);
            for (var i = 0; i < m; i++) sum += Unsafe.Add(ref xr, i) * Unsafe.Add(ref wr, i * n + o);
            Unsafe.Add(ref ar, o) = sum;
        }
    }

    /// <summary>g[i, o] += x[i] · d[o], with g of shape [x.Length, d.Length].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Outer(ReadOnlySpan<float> x, ReadOnlySpan<float> d, Span<float> g)
    {
        int m = x.Length, n = d.Length;
        if (g.Length < m * n) ThrowShape(nameof(Outer));
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var dr = ref MemoryMarshal.GetReference(d);
        ref var gr = ref MemoryMarshal.GetReference(g);
        if (Vector256.IsHardwareAccelerated && n == 16)
        {
            // The common conv case: d fits two registers for the whole loop.
            var d0 = Vector256.LoadUnsafe(ref dr);
            var d1 = Vector256.LoadUnsafe(ref dr, 8);
            for (var i = 0; i < m; i++)
            {
                var xi = Vector256.Create(Unsafe.Add(ref xr, i));
                ref var row = ref Unsafe.Add(ref gr, i * 16);
                Vector256.MultiplyAddEstimate(xi, d0, Vector256.LoadUnsafe(ref row)).StoreUnsafe(ref row);
                Vector256.MultiplyAddEstimate(xi, d1, Vector256.LoadUnsafe(ref row, 8)).StoreUnsafe(ref row, 8);
            }

            return;
        }

        for (var i = 0; i < m; i++)
        {
            var xi = Unsafe.Add(ref xr, i);
            ref var row = ref Unsafe.Add(ref gr, i * n);
            var o = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var xv = Vector256.Create(xi);
                for (; o + 8 <= n; o += 8)
                {
                    Vector256.MultiplyAddEstimate(xv, Vector256.LoadUnsafe(ref dr, (nuint)o), Vector256.LoadUnsafe(ref row, (nuint)o)).StoreUnsafe(ref row, (nuint)o);
                }
            }

            if (Vector128.IsHardwareAccelerated && o + 4 <= n)
            {
                Vector128.MultiplyAddEstimate(Vector128.Create(xi), Vector128.LoadUnsafe(ref dr, (nuint)o), Vector128.LoadUnsafe(ref row, (nuint)o)).StoreUnsafe(ref row, (nuint)o);
                o += 4;
            }

            for (; o < n; o++) Unsafe.Add(ref row, o) += xi * Unsafe.Add(ref dr, o);
        }
    }

    /// <summary>dx[i] += Σ_o w[i, o] · d[o], with w of shape [dx.Length, d.Length].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MatVec(ReadOnlySpan<float> w, ReadOnlySpan<float> d, Span<float> dx)
    {
        int m = dx.Length, n = d.Length;
        if (w.Length < m * n) ThrowShape(nameof(MatVec));
        ref var wr = ref MemoryMarshal.GetReference(w);
        ref var dr = ref MemoryMarshal.GetReference(d);
        ref var xr = ref MemoryMarshal.GetReference(dx);
        var i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var vectorEnd = n & ~7;

            // Four rows at a time: four independent dot products, reduced together at the end.
            for (; i + 4 <= m; i += 4)
            {
                ref var r0 = ref Unsafe.Add(ref wr, i * n);
                ref var r1 = ref Unsafe.Add(ref r0, n);
                ref var r2 = ref Unsafe.Add(ref r1, n);
                ref var r3 = ref Unsafe.Add(ref r2, n);
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var o = 0; o < vectorEnd; o += 8)
                {
                    var dv = Vector256.LoadUnsafe(ref dr, (nuint)o);
                    s0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r0, (nuint)o), dv, s0);
                    s1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r1, (nuint)o), dv, s1);
                    s2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r2, (nuint)o), dv, s2);
                    s3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r3, (nuint)o), dv, s3);
                }

                float t0 = Vector256.Sum(s0), t1 = Vector256.Sum(s1), t2 = Vector256.Sum(s2), t3 = Vector256.Sum(s3);
                for (var o = vectorEnd; o < n; o++)
                {
                    var dv = Unsafe.Add(ref dr, o);
                    t0 += Unsafe.Add(ref r0, o) * dv;
                    t1 += Unsafe.Add(ref r1, o) * dv;
                    t2 += Unsafe.Add(ref r2, o) * dv;
                    t3 += Unsafe.Add(ref r3, o) * dv;
                }

                Unsafe.Add(ref xr, i) += t0;
                Unsafe.Add(ref xr, i + 1) += t1;
                Unsafe.Add(ref xr, i + 2) += t2;
                Unsafe.Add(ref xr, i + 3) += t3;
            }
        }

        for (; i < m; i++)
        {
            ref var row = ref Unsafe.Add(ref wr, i * n);
            var sum = 0f;
            for (var o = 0; o < n; o++) sum += Unsafe.Add(ref row, o) * Unsafe.Add(ref dr, o);
            Unsafe.Add(ref xr, i) += sum;
        }
    }

    /// <summary>target[i] += source[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(ReadOnlySpan<float> source, Span<float> target)
    {
        var n = source.Length;
        if (target.Length < n) ThrowShape(nameof(Add));
        ref var sr = ref MemoryMarshal.GetReference(source);
        ref var tr = ref MemoryMarshal.GetReference(target);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                (Vector256.LoadUnsafe(ref tr, (nuint)i) + Vector256.LoadUnsafe(ref sr, (nuint)i)).StoreUnsafe(ref tr, (nuint)i);
            }
        }

        for (; i < n; i++) Unsafe.Add(ref tr, i) += Unsafe.Add(ref sr, i);
    }

    /// <summary>
    /// values = tanh(values), as the odd rational minimax approximation x·P(x²)/Q(x²) on [-7.905, 7.905] (clamped
    /// outside, where tanh rounds to ±1) that Eigen uses: absolute error below 4e-7, no exponential, no branch.
    /// </summary>
    public static void Tanh(Span<float> values)
    {
        ref var r = ref MemoryMarshal.GetReference(values);
        var n = values.Length;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var limit = Vector256.Create(TanhLimit);
            for (; i + 8 <= n; i += 8)
            {
                var x = Vector256.Clamp(Vector256.LoadUnsafe(ref r, (nuint)i), -limit, limit);
                var x2 = x * x;
                var p = Vector256.MultiplyAddEstimate(Vector256.Create(TanhP13), x2, Vector256.Create(TanhP11));
                p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(TanhP9));
                p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(TanhP7));
                p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(TanhP5));
                p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(TanhP3));
                p = Vector256.MultiplyAddEstimate(p, x2, Vector256.Create(TanhP1));
                var q = Vector256.MultiplyAddEstimate(Vector256.Create(TanhQ6), x2, Vector256.Create(TanhQ4));
                q = Vector256.MultiplyAddEstimate(q, x2, Vector256.Create(TanhQ2));
                q = Vector256.MultiplyAddEstimate(q, x2, Vector256.Create(TanhQ0));
                (x * p / q).StoreUnsafe(ref r, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            var x = Math.Clamp(Unsafe.Add(ref r, i), -TanhLimit, TanhLimit);
            var x2 = x * x;
            var p = ((((((TanhP13 * x2 + TanhP11) * x2 + TanhP9) * x2 + TanhP7) * x2 + TanhP5) * x2 + TanhP3) * x2) + TanhP1;
            var q = ((TanhQ6 * x2 + TanhQ4) * x2 + TanhQ2) * x2 + TanhQ0;
            Unsafe.Add(ref r, i) = x * p / q;
        }
    }

    // Coefficients of the rational tanh approximation (Eigen's ptanh_float).
    private const float TanhLimit = 7.90531110763549805f;
    private const float TanhP1 = 4.89352455891786e-03f;
    private const float TanhP3 = 6.37261928875436e-04f;
    private const float TanhP5 = 1.48572235717979e-05f;
    private const float TanhP7 = 5.12229709037114e-08f;
    private const float TanhP9 = -8.60467152213735e-11f;
    private const float TanhP11 = 2.00018790482477e-13f;
    private const float TanhP13 = -2.76076847742355e-16f;
    private const float TanhQ0 = 4.89352518554385e-03f;
    private const float TanhQ2 = 2.26843463243900e-03f;
    private const float TanhQ4 = 1.18534705686654e-04f;
    private const float TanhQ6 = 1.19825839466702e-06f;

    /// <summary>values = max(values, 0).</summary>
    public static void Relu(Span<float> values)
    {
        ref var r = ref MemoryMarshal.GetReference(values);
        var n = values.Length;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Max(Vector256.LoadUnsafe(ref r, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref r, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            if (!(Unsafe.Add(ref r, i) > 0f)) Unsafe.Add(ref r, i) = 0f;
        }
    }

    /// <summary>values = 1 / (1 + e^-values).</summary>
    public static void Sigmoid(Span<float> values)
    {
        ref var r = ref MemoryMarshal.GetReference(values);
        var n = values.Length;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            var limit = Vector256.Create(80f);
            for (; i + 8 <= n; i += 8)
            {
                var x = Vector256.Clamp(Vector256.LoadUnsafe(ref r, (nuint)i), -limit, limit);
                (one / (one + Vector256.Exp(-x))).StoreUnsafe(ref r, (nuint)i);
            }
        }

        for (; i < n; i++) Unsafe.Add(ref r, i) = 1f / (1f + MathF.Exp(-Unsafe.Add(ref r, i)));
    }

    /// <summary>dy *= 1 - y², the derivative of tanh expressed through its output.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, Span<float> dy)
    {
        if (y.Length < dy.Length) ThrowShape(nameof(TanhBackward));
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var dr = ref MemoryMarshal.GetReference(dy);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; i + 8 <= dy.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref yr, (nuint)i);
                (Vector256.LoadUnsafe(ref dr, (nuint)i) * (one - v * v)).StoreUnsafe(ref dr, (nuint)i);
            }
        }

        for (; i < dy.Length; i++) Unsafe.Add(ref dr, i) *= 1f - Unsafe.Add(ref yr, i) * Unsafe.Add(ref yr, i);
    }

    /// <summary>dy *= (y > 0).</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, Span<float> dy)
    {
        if (y.Length < dy.Length) ThrowShape(nameof(ReluBackward));
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var dr = ref MemoryMarshal.GetReference(dy);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= dy.Length; i += 8)
            {
                var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref yr, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref dr, (nuint)i) & positive).StoreUnsafe(ref dr, (nuint)i);
            }
        }

        for (; i < dy.Length; i++)
        {
            if (!(Unsafe.Add(ref yr, i) > 0f)) Unsafe.Add(ref dr, i) = 0f;
        }
    }

    /// <summary>dy *= y · (1 - y), the derivative of the sigmoid expressed through its output.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, Span<float> dy)
    {
        if (y.Length < dy.Length) ThrowShape(nameof(SigmoidBackward));
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var dr = ref MemoryMarshal.GetReference(dy);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; i + 8 <= dy.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref yr, (nuint)i);
                (Vector256.LoadUnsafe(ref dr, (nuint)i) * (v * (one - v))).StoreUnsafe(ref dr, (nuint)i);
            }
        }

        for (; i < dy.Length; i++) Unsafe.Add(ref dr, i) *= Unsafe.Add(ref yr, i) * (1f - Unsafe.Add(ref yr, i));
    }

    /// <summary>probabilities = softmax(logits), stable (the largest logit is subtracted first).</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        var max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var e = MathF.Exp(logits[i] - max);
            probabilities[i] = e;
            sum += e;
        }

        var scale = (float)(1.0 / sum);
        for (var i = 0; i < logits.Length; i++) probabilities[i] *= scale;
    }

    /// <summary>
    /// Sparse categorical cross-entropy of softmax(logits) against <paramref name="label"/>, computed from the logits
    /// (log-sum-exp, no clipping). Writes softmax(logits) to <paramref name="probabilities"/> and d(loss)/d(logits) =
    /// softmax - onehot to <paramref name="dLogits"/>; returns the loss.
    /// </summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int label, Span<float> probabilities, Span<float> dLogits)
    {
        var max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        double sum = 0;
        for (var i = 0; i < logits.Length; i++) sum += Math.Exp(logits[i] - max);
        var logSum = Math.Log(sum);
        for (var i = 0; i < logits.Length; i++)
        {
            var p = (float)Math.Exp(logits[i] - max - logSum);
            probabilities[i] = p;
            dLogits[i] = i == label ? p - 1f : p;
        }

        return (float)(logSum + max - logits[label]);
    }

    /// <summary>As <see cref="SoftmaxCrossEntropy"/> for a network whose outputs are logits (no softmax layer).</summary>
    public static float LogitsCrossEntropy(ReadOnlySpan<float> logits, int label, Span<float> dLogits) =>
        SoftmaxCrossEntropy(logits, label, dLogits, dLogits);

    /// <summary>Validates the buffers of a forward call.</summary>
    public static void CheckForward(int input, int workspace, int output, int inputLength, int workspaceLength, int outputLength)
    {
        if (input != inputLength) throw ModelInputException.WrongInputLength(input, inputLength);
        if (workspace < workspaceLength) throw new ArgumentException($"The workspace holds {workspace} floats; this network needs {workspaceLength}.", nameof(workspace));
        if (output < outputLength) throw new ArgumentException($"The output span holds {output} floats; this network writes {outputLength}.", nameof(output));
    }

    /// <summary>Validates the buffers and label of a forward/backward call.</summary>
    public static void CheckBackward(
        int input, int label, int workspace, int output, int gradient,
        int inputLength, int workspaceLength, int outputLength, int parameterCount)
    {
        CheckForward(input, workspace, output, inputLength, workspaceLength, outputLength);
        if ((uint)label >= (uint)outputLength) throw ModelInputException.LabelOutOfRange(label, outputLength, index: null);
        if (gradient != parameterCount) throw new ArgumentException($"The gradient span holds {gradient} floats; this network has {parameterCount} parameters.", nameof(gradient));
    }

    private static void ThrowShape(string method) =>
        throw new ArgumentException($"{method}: the matrix span is shorter than its vectors require.");
}

using System.ComponentModel;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>An activation as a type argument of the kernels (for generated code only): the JIT folds the choice away.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IActivationFunction
{
    /// <summary>Which function; <see cref="Activation.Softmax"/> is applied with the loss, so the layer itself leaves it out.</summary>
    static abstract Activation Function { get; }
}

/// <summary>
/// The activation functions, once for every backend (for generated code only): the scalar formulas below are what the
/// CPU kernels' vector code computes lane by lane and what the generated GPU kernels call.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Activations
{
    /// <summary>No activation (Keras 'linear'); also the layer part of a softmax layer.</summary>
    public readonly struct Linear : IActivationFunction
    {
        /// <inheritdoc/>
        public static Activation Function => Activation.None;
    }

    /// <summary>tanh.</summary>
    public readonly struct Tanh : IActivationFunction
    {
        /// <inheritdoc/>
        public static Activation Function => Activation.Tanh;
    }

    /// <summary>max(x, 0).</summary>
    public readonly struct Relu : IActivationFunction
    {
        /// <inheritdoc/>
        public static Activation Function => Activation.Relu;
    }

    /// <summary>1 / (1 + e^-x).</summary>
    public readonly struct Sigmoid : IActivationFunction
    {
        /// <inheritdoc/>
        public static Activation Function => Activation.Sigmoid;
    }

    // tanh as the odd rational minimax approximation x·P(x²)/Q(x²) on [-7.905, 7.905] (clamped outside, where tanh rounds
    // to ±1) that Eigen uses: absolute error below 4e-7 everywhere, relative error small near 0 (no 1 - 2/(e^2x + 1)
    // cancellation), no exponential and no branch.
    internal const float TanhLimit = 7.90531110763549805f;
    internal const float TanhP1 = 4.89352455891786e-03f;
    internal const float TanhP3 = 6.37261928875436e-04f;
    internal const float TanhP5 = 1.48572235717979e-05f;
    internal const float TanhP7 = 5.12229709037114e-08f;
    internal const float TanhP9 = -8.60467152213735e-11f;
    internal const float TanhP11 = 2.00018790482477e-13f;
    internal const float TanhP13 = -2.76076847742355e-16f;
    internal const float TanhQ0 = 4.89352518554385e-03f;
    internal const float TanhQ2 = 2.26843463243900e-03f;
    internal const float TanhQ4 = 1.18534705686654e-04f;
    internal const float TanhQ6 = 1.19825839466702e-06f;

    /// <summary>tanh(x) by the rational approximation (plain float math, so ILGPU compiles it for GPU kernels too).</summary>
    public static float TanhOf(float x)
    {
        x = x > TanhLimit ? TanhLimit : x < -TanhLimit ? -TanhLimit : x;
        var x2 = x * x;
        var p = MathF.FusedMultiplyAdd(TanhP13, x2, TanhP11);
        p = MathF.FusedMultiplyAdd(p, x2, TanhP9);
        p = MathF.FusedMultiplyAdd(p, x2, TanhP7);
        p = MathF.FusedMultiplyAdd(p, x2, TanhP5);
        p = MathF.FusedMultiplyAdd(p, x2, TanhP3);
        p = MathF.FusedMultiplyAdd(p, x2, TanhP1);
        var q = MathF.FusedMultiplyAdd(TanhQ6, x2, TanhQ4);
        q = MathF.FusedMultiplyAdd(q, x2, TanhQ2);
        q = MathF.FusedMultiplyAdd(q, x2, TanhQ0);
        return x * p / q;
    }

    /// <summary>1 / (1 + e^-x), with x clamped to ±80 (beyond it the result is 0 or 1 in float anyway).</summary>
    public static float SigmoidOf(float x)
    {
        x = x > 80f ? 80f : x < -80f ? -80f : x;
        return 1f / (1f + MathF.Exp(-x));
    }

    /// <summary>The activation <paramref name="function"/> of one value (the reference every vector path agrees with).</summary>
    public static float Apply(Activation function, float x) => function switch
    {
        Activation.Tanh => TanhOf(x),
        Activation.Relu => x > 0f ? x : 0f,
        Activation.Sigmoid => SigmoidOf(x),
        _ => x,
    };

    /// <summary>d(activation)/d(input) written through the activation's output y: 1 − y², (y &gt; 0), y(1 − y), 1.</summary>
    public static float DerivativeFromOutput(Activation function, float y) => function switch
    {
        Activation.Tanh => 1f - y * y,
        Activation.Relu => y > 0f ? 1f : 0f,
        Activation.Sigmoid => y * (1f - y),
        _ => 1f,
    };

    /// <summary>dy *= f'(through y), over the first <c>count</c> samples of the buffers.</summary>
    /// <param name="pass">The batch.</param>
    /// <param name="y">The activation's output, [count, length].</param>
    /// <param name="dy">d(loss)/d(output) on entry, d(loss)/d(pre-activation) on return.</param>
    /// <param name="length">Floats per sample.</param>
    public static unsafe void Backward<TActivation>(in BatchPass pass, ReadOnlySpan<float> y, Span<float> dy, int length)
        where TActivation : IActivationFunction
    {
        if (TActivation.Function is Activation.None or Activation.Softmax) return;
        var total = (long)pass.Count * length;
        if (y.Length < total || dy.Length < total) throw Kernels.TooShort(nameof(Backward));
        fixed (float* yp = y)
        fixed (float* dp = dy)
        {
            var job = new BackwardJob<TActivation> { Y = yp, Dy = dp, Total = total };
            pass.Run(Kernels.Blocks(total), ref job);
        }
    }

    private unsafe struct BackwardJob<TActivation> : IParallelJob, IWidthGeneric where TActivation : IActivationFunction
    {
        public float* Y;
        public float* Dy;
        public long Total;
        private long _from, _to;

        public readonly void Execute(int item)
        {
            // The job is shared by the threads: each item runs on its own copy.
            var local = this;
            (local._from, local._to) = Kernels.Block(item, Total);
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            var i = _from;
            for (; i + TOps.Lanes <= _to; i += TOps.Lanes)
            {
                TOps.Store(Dy + i, TOps.Multiply(TOps.Load(Dy + i), ActivationMath.Derivative<TOps, TVec, TActivation>(TOps.Load(Y + i))));
            }

            for (; i < _to; i++) Dy[i] *= DerivativeFromOutput(TActivation.Function, Y[i]);
        }
    }
}

/// <summary>The vector forms of <see cref="Activations"/>, lane for lane the same arithmetic as the scalar formulas.</summary>
internal static class ActivationMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TOps, TVec, TActivation>(TVec x)
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TActivation : IActivationFunction
    {
        switch (TActivation.Function)
        {
            case Activation.Tanh:
            {
                var limit = TOps.Broadcast(Activations.TanhLimit);
                x = TOps.Min(TOps.Max(x, TOps.Subtract(TOps.Zero, limit)), limit);
                var x2 = TOps.Multiply(x, x);
                var p = TOps.MultiplyAdd(TOps.Broadcast(Activations.TanhP13), x2, TOps.Broadcast(Activations.TanhP11));
                p = TOps.MultiplyAdd(p, x2, TOps.Broadcast(Activations.TanhP9));
                p = TOps.MultiplyAdd(p, x2, TOps.Broadcast(Activations.TanhP7));
                p = TOps.MultiplyAdd(p, x2, TOps.Broadcast(Activations.TanhP5));
                p = TOps.MultiplyAdd(p, x2, TOps.Broadcast(Activations.TanhP3));
                p = TOps.MultiplyAdd(p, x2, TOps.Broadcast(Activations.TanhP1));
                var q = TOps.MultiplyAdd(TOps.Broadcast(Activations.TanhQ6), x2, TOps.Broadcast(Activations.TanhQ4));
                q = TOps.MultiplyAdd(q, x2, TOps.Broadcast(Activations.TanhQ2));
                q = TOps.MultiplyAdd(q, x2, TOps.Broadcast(Activations.TanhQ0));
                return TOps.Divide(TOps.Multiply(x, p), q);
            }

            case Activation.Relu:
                return TOps.Max(x, TOps.Zero);

            case Activation.Sigmoid:
            {
                var limit = TOps.Broadcast(80f);
                x = TOps.Min(TOps.Max(x, TOps.Subtract(TOps.Zero, limit)), limit);
                var one = TOps.Broadcast(1f);
                return TOps.Divide(one, TOps.Add(one, TOps.Exp(TOps.Subtract(TOps.Zero, x))));
            }

            default:
                return x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Derivative<TOps, TVec, TActivation>(TVec y)
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TActivation : IActivationFunction
    {
        var one = TOps.Broadcast(1f);
        return TActivation.Function switch
        {
            Activation.Tanh => TOps.Subtract(one, TOps.Multiply(y, y)),
            Activation.Relu => TOps.And(TOps.GreaterThan(y, TOps.Zero), one),
            Activation.Sigmoid => TOps.Multiply(y, TOps.Subtract(one, y)),
            _ => one,
        };
    }
}

using System;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>
/// Adam with Keras's update and defaults (epsilon added before bias correction, Keras's form rather than PyTorch's).
/// With t = <see cref="Optimizer.Iterations"/> + 1:
/// alpha = lr·sqrt(1−β2^t)/(1−β1^t); m += (g−m)(1−β1); v += (g²−v)(1−β2); w −= alpha·m/(sqrt(v)+ε).
/// </summary>
/// <remarks>
/// The per-step scalars are computed in double, the per-element update in float. The moment buffers are allocated on the
/// first <see cref="Step"/> (or by <see cref="SetState"/>); after that a step allocates nothing.
/// </remarks>
public sealed class Adam : Optimizer
{
    /// <summary>The <see cref="OptimizerState.Kind"/> this optimizer writes and accepts.</summary>
    public const string KindName = "adam";

    private float[]? _m;
    private float[]? _v;

    /// <summary>Creates Adam with Keras's defaults unless told otherwise.</summary>
    /// <param name="learningRate">Step size (Keras <c>learning_rate</c>), ≥ 0 and finite as a float.</param>
    /// <param name="beta1">Decay of the first moment (Keras <c>beta_1</c>), in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment (Keras <c>beta_2</c>), in [0, 1).</param>
    /// <param name="epsilon">Added to sqrt(v) (Keras <c>epsilon</c>), positive and not 0 as a float.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range.</exception>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7)
        : base(CheckedLearningRate(learningRate, beta1, beta2, epsilon))
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Decay of the first moment (Keras <c>beta_1</c>).</summary>
    public double Beta1 { get; private set; }

    /// <summary>Decay of the second moment (Keras <c>beta_2</c>).</summary>
    public double Beta2 { get; private set; }

    /// <summary>Added to sqrt(v) before dividing (Keras <c>epsilon</c>).</summary>
    public double Epsilon { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The spans differ in length, or differ from the parameter count this optimizer already holds moments for.</exception>
    public override void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        if (parameters.Length != gradient.Length)
        {
            throw new ArgumentException(
                $"Adam got {parameters.Length} parameters but {gradient.Length} gradient values; pass a gradient with the same layout as the parameters.",
                nameof(gradient));
        }

        if (BeginStep(parameters.Length) is { } problem)
        {
            AbortStep();
            throw new ModelGenException($"{problem}; nothing was updated. Lower learning_rate, or beta_1 further from 1.");
        }

        StepRange(parameters, gradient, 0);
        EndStep();
    }

    // The scalars of the update in progress (BeginStep .. EndStep).
    private long _t;
    private float _alpha, _c1, _c2, _epsilon;
    private bool _allocatedByBeginStep;

    internal override bool SupportsRanges => true;

    internal override string? BeginStep(int length)
    {
        if (_m is not null && _m.Length != length)
        {
            throw new ArgumentException(
                $"This Adam instance holds moments for {_m.Length} parameters but was given {length}; use one optimizer per parameter buffer.",
                "parameters");
        }

        if (Iterations >= MaxIterations)
        {
            return $"Adam has counted {Iterations} updates, the most it can count";
        }

        _t = Iterations + 1;
        if (ScalarsOf(_t, out var scalars) is { } problem) return problem;
        (_alpha, _c1, _c2, _epsilon) = (scalars.Alpha, scalars.OneMinusBeta1, scalars.OneMinusBeta2, scalars.Epsilon);
        _allocatedByBeginStep = _m is null;
        if (_m is null || _v is null)
        {
            _m = new float[length];
            _v = new float[length];
        }

        return null;
    }

    /// <summary>
    /// The scalars of update <paramref name="t"/> (1-based) as every device applies them: the bias-corrected step size
    /// alpha = lr·sqrt(1−β2^t)/(1−β1^t), computed in double, and 1−β1, 1−β2 and ε, all as floats. The one place these are
    /// computed (the CPU update and the GPU kernels both take them from here). Returns null, or why update t cannot be
    /// applied (too many updates, or a step size beyond the range of a float).
    /// </summary>
    internal string? ScalarsOf(long t, out AdamScalars scalars)
    {
        scalars = default;
        if (t > MaxIterations)
        {
            return $"Adam has counted {t - 1} updates, the most it can count";
        }

        var alpha = LearningRate * Math.Sqrt(1.0 - Math.Pow(Beta2, t)) / (1.0 - Math.Pow(Beta1, t));
        if (!IsFiniteFloat(alpha))
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"Adam's step size for update {t}, learning_rate·sqrt(1-beta_2^t)/(1-beta_1^t) = {alpha:G4}, is beyond the range of a float");
        }

        scalars = new AdamScalars((float)alpha, (float)(1.0 - Beta1), (float)(1.0 - Beta2), (float)Epsilon);
        return null;
    }

    /// <summary>The moments, or null before the first update (for engines that run the update elsewhere, e.g. on a GPU).</summary>
    internal (float[] M, float[] V)? Moments => _m is null || _v is null ? null : (_m, _v);

    /// <summary>
    /// Takes the state an engine computed elsewhere (a GPU): the iteration count and the moments, which this optimizer now
    /// owns. The engine applied the updates with <see cref="ScalarsOf"/>, so this is the state <see cref="Step"/> would have left.
    /// </summary>
    internal void SetMoments(long iterations, float[] m, float[] v)
    {
        if (m.Length != v.Length) throw new ArgumentException("The moments differ in length.", nameof(v));
        if (iterations is < 0 or > MaxIterations) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "An Adam iteration count is 0 to 2^53.");
        Iterations = iterations;
        _m = m;
        _v = v;
    }

    internal override bool RangeStaysFinite(Span<float> parameters, ReadOnlySpan<float> gradient, int start) =>
        Update<DryRun>(parameters, gradient, start);

    internal override void StepRange(Span<float> parameters, ReadOnlySpan<float> gradient, int start) =>
        Update<Store>(parameters, gradient, start);

    internal override void EndStep()
    {
        Iterations = _t;
        _allocatedByBeginStep = false;
    }

    internal override void AbortStep()
    {
        // Moments created for an update that never happened would make the state differ from the one before it.
        if (_allocatedByBeginStep) _m = _v = null;
        _allocatedByBeginStep = false;
    }

    internal override bool StepStaysFinite(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        var problem = BeginStep(parameters.Length);
        var finite = problem is null && Update<DryRun>(parameters, gradient, 0);
        AbortStep();
        return finite;
    }

    /// <summary>
    /// The update of one range, stored (<see cref="Store"/>) or only computed to see whether every new value is finite
    /// (<see cref="DryRun"/>). One body for both, so the dry run's values are exactly those a stored update writes.
    /// </summary>
    private bool Update<TMode>(Span<float> parameters, ReadOnlySpan<float> gradient, int start)
        where TMode : struct, IUpdateMode
    {
        float a = _alpha, c1 = _c1, c2 = _c2, eps = _epsilon;
        Span<float> m = _m.AsSpan(start, parameters.Length);
        Span<float> v = _v.AsSpan(start, parameters.Length);
        var finite = true;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Same operations in the same order as the scalar tail (no fused multiply-add), so the result does not
            // depend on the vector width of the machine, nor on how the buffer is cut into ranges.
            var pw = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var gw = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var mw = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vw = MemoryMarshal.Cast<float, Vector<float>>(v);
            var va = new Vector<float>(a);
            var vc1 = new Vector<float>(c1);
            var vc2 = new Vector<float>(c2);
            var veps = new Vector<float>(eps);
            var max = new Vector<float>(float.MaxValue);
            for (int k = 0; k < pw.Length; k++)
            {
                var g = gw[k];
                var mk = mw[k] + (g - mw[k]) * vc1;
                var vk = vw[k] + (g * g - vw[k]) * vc2;
                var pk = pw[k] - mk * va / (Vector.SquareRoot(vk) + veps);
                if (TMode.Stores)
                {
                    mw[k] = mk;
                    vw[k] = vk;
                    pw[k] = pk;
                }
                else if (!Vector.LessThanOrEqualAll(Vector.Abs(mk), max) || !Vector.LessThanOrEqualAll(vk, max)
                    || !Vector.LessThanOrEqualAll(Vector.Abs(pk), max))
                {
                    finite = false; // |x| <= MaxValue is false for NaN and for infinities
                }
            }

            i = pw.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            float g = gradient[i];
            float mi = m[i] + (g - m[i]) * c1;
            float vi = v[i] + (g * g - v[i]) * c2;
            float pi = parameters[i] - mi * a / (MathF.Sqrt(vi) + eps);
            if (TMode.Stores)
            {
                m[i] = mi;
                v[i] = vi;
                parameters[i] = pi;
            }
            else if (!float.IsFinite(mi) || !float.IsFinite(vi) || !float.IsFinite(pi))
            {
                finite = false;
            }
        }

        return finite;
    }

    /// <inheritdoc/>
    /// <remarks>Slots are copies: m then v. Before the first step there are no slots yet (an empty array).</remarks>
    public override OptimizerState GetState()
    {
        float[][] slots = _m is null || _v is null ? [] : [(float[])_m.Clone(), (float[])_v.Clone()];
        return new OptimizerState(
            KindName,
            Iterations,
            [("learning_rate", LearningRate), ("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon)],
            slots);
    }

    /// <inheritdoc/>
    /// <remarks>Takes the iteration count, the hyperparameters named in the state (others keep their value) and copies of the slots.</remarks>
    /// <exception cref="ModelGenException">The state is not an Adam state, or its slots or settings are invalid.</exception>
    public override void SetState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != KindName)
        {
            throw new ModelGenException(
                $"Cannot restore an optimizer state of kind '{state.Kind}' into Adam; create the optimizer that matches the state (kind '{state.Kind}') or start a fresh Adam.");
        }

        if (state.Iterations is < 0 or > MaxIterations)
        {
            throw new ModelGenException(
                $"The Adam state has an impossible iteration count ({state.Iterations}; it is 0 to 2^53); the state is corrupt, start a fresh optimizer.");
        }

        double lr = LearningRate, b1 = Beta1, b2 = Beta2, eps = Epsilon;
        foreach (var (name, value) in state.Hyperparameters ?? [])
        {
            switch (name)
            {
                case "learning_rate": lr = value; break;
                case "beta_1": b1 = value; break;
                case "beta_2": b2 = value; break;
                case "epsilon": eps = value; break;
                default:
                    throw new ModelGenException(
                        $"The Adam state has an unknown hyperparameter '{name}'; Adam takes learning_rate, beta_1, beta_2 and epsilon.");
            }
        }

        Validate(lr, b1, b2, eps, (message, _) => new ModelGenException("The Adam state is invalid: " + message));

        var slots = state.Slots ?? [];
        if (slots.Length == 0)
        {
            if (state.Iterations != 0)
            {
                throw new ModelGenException(
                    $"The Adam state has {state.Iterations} iterations but no moment buffers; the state is incomplete, start a fresh optimizer.");
            }
        }
        else if (slots.Length != 2 || slots[0] is null || slots[1] is null || slots[0].Length != slots[1].Length)
        {
            throw new ModelGenException(
                "The Adam state must hold two slots of equal length (m then v), "
                + $"but has {slots.Length} with lengths [{string.Join(", ", Array.ConvertAll(slots, s => s?.Length ?? -1))}]; the state is corrupt or from another optimizer.");
        }

        for (var s = 0; s < slots.Length; s++)
        {
            // v is a mean of squares: a negative one would make sqrt(v) NaN.
            var bad = FirstInvalid(slots[s], nonNegative: s == 1);
            if (bad >= 0)
            {
                throw new ModelGenException(string.Create(CultureInfo.InvariantCulture,
                    $"The Adam state's slot {s} ({(s == 0 ? "m" : "v")}) holds {slots[s][bad]} at {bad}; moments must be finite{(s == 1 ? " and not negative" : "")}, so the state is corrupt: start a fresh optimizer."));
            }
        }

        LearningRate = lr;
        Beta1 = b1;
        Beta2 = b2;
        Epsilon = eps;
        Iterations = state.Iterations;
        if (slots.Length == 0)
        {
            _m = null;
            _v = null;
        }
        else
        {
            _m = (float[])slots[0].Clone();
            _v = (float[])slots[1].Clone();
        }
    }

    /// <summary>Every setting validated before the base class takes the learning rate, so errors name the setting at fault.</summary>
    private static double CheckedLearningRate(double lr, double b1, double b2, double eps)
    {
        Validate(lr, b1, b2, eps, (message, name) => new ArgumentOutOfRangeException(name, message));
        return lr;
    }

    private static void Validate(double lr, double b1, double b2, double eps, Func<string, string, Exception> error)
    {
        // Checked as the update uses them, as floats: 1e39 is a finite double but +Inf as a float.
        if (CheckLearningRate(lr) is { } problem) throw error(problem, "learningRate");

        if (!(b1 >= 0 && b1 < 1))
        {
            throw error($"beta_1 must be in [0, 1), but is {b1}; Keras's default is 0.9.", "beta1");
        }

        if (!(b2 >= 0 && b2 < 1))
        {
            throw error($"beta_2 must be in [0, 1), but is {b2}; Keras's default is 0.999.", "beta2");
        }

        // Zero (or a value that is 0 as a float) divides 0 by 0 for every parameter whose gradient has always been 0.
        if (!IsFiniteFloat(eps) || !((float)eps > 0))
        {
            throw error($"epsilon must be a positive number that is finite and not 0 as a float, but is {eps}; Keras's default is 1e-7.", "epsilon");
        }
    }
}

/// <summary>The per-step scalars of one Adam update (see <see cref="Adam.ScalarsOf"/>).</summary>
internal readonly record struct AdamScalars(float Alpha, float OneMinusBeta1, float OneMinusBeta2, float Epsilon);

/// <summary>Whether an optimizer's update body stores its results or only computes them (a dry run).</summary>
internal interface IUpdateMode
{
    static abstract bool Stores { get; }
}

/// <summary>The update is written to the parameters and the optimizer state.</summary>
internal readonly struct Store : IUpdateMode
{
    public static bool Stores => true;
}

/// <summary>The update is computed and checked, nothing is written.</summary>
internal readonly struct DryRun : IUpdateMode
{
    public static bool Stores => false;
}

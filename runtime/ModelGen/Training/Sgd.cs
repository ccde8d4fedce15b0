using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>
/// Stochastic gradient descent with Keras's update and defaults. Without momentum: w −= lr·g. With momentum:
/// v = momentum·v − lr·g, then w += v, or with Nesterov w += momentum·v − lr·g.
/// </summary>
/// <remarks>The velocity buffer exists only with momentum &gt; 0; it is allocated on the first <see cref="Step"/> or by <see cref="SetState"/>.</remarks>
public sealed class Sgd : Optimizer
{
    /// <summary>The <see cref="OptimizerState.Kind"/> this optimizer writes and accepts.</summary>
    public const string KindName = "sgd";

    private float[]? _velocity;

    /// <summary>Creates SGD with Keras's defaults unless told otherwise.</summary>
    /// <param name="learningRate">Step size (Keras <c>learning_rate</c>), ≥ 0 and finite as a float.</param>
    /// <param name="momentum">Keras <c>momentum</c>, in [0, 1]; 0 means plain SGD with no velocity buffer.</param>
    /// <param name="nesterov">Whether to apply Nesterov momentum (Keras <c>nesterov</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range.</exception>
    public Sgd(double learningRate = 0.01, double momentum = 0.0, bool nesterov = false)
        : base(CheckedLearningRate(learningRate, momentum))
    {
        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>Momentum (Keras <c>momentum</c>); 0 for plain SGD.</summary>
    public double Momentum { get; private set; }

    /// <summary>Whether Nesterov momentum is applied.</summary>
    public bool Nesterov { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The spans differ in length, or differ from the parameter count this optimizer already holds a velocity for.</exception>
    public override void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        if (parameters.Length != gradient.Length)
        {
            throw new ArgumentException(
                $"SGD got {parameters.Length} parameters but {gradient.Length} gradient values; pass a gradient with the same layout as the parameters.",
                nameof(gradient));
        }

        if (Iterations >= MaxIterations)
        {
            throw new ModelGenException($"SGD has counted {Iterations} updates, the most it can count; start a fresh optimizer.");
        }

        PrepareVelocity(parameters.Length);
        Update<Store>(parameters, gradient);
        Iterations++;
    }

    internal override bool StepStaysFinite(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        if (Iterations >= MaxIterations) return false;
        var created = Momentum != 0 && _velocity is null;
        PrepareVelocity(parameters.Length);
        var finite = Update<DryRun>(parameters, gradient);
        if (created) _velocity = null; // the state stays as it was before the dry run
        return finite;
    }

    private void PrepareVelocity(int length)
    {
        if (Momentum == 0) return;
        if (_velocity is null)
        {
            _velocity = new float[length];
        }
        else if (_velocity.Length != length)
        {
            throw new ArgumentException(
                $"This SGD instance holds a velocity for {_velocity.Length} parameters but was given {length}; use one optimizer per parameter buffer.",
                "parameters");
        }
    }

    /// <summary>The update, stored or only computed to see whether every new value is finite: one body for both.</summary>
    private bool Update<TMode>(Span<float> parameters, ReadOnlySpan<float> gradient)
        where TMode : struct, IUpdateMode
    {
        // Keras: m = -g·lr + m·momentum; w += m (or, Nesterov, w += -g·lr + m·momentum). Vector and tail use the same
        // operations in the same order, so results do not depend on the vector width.
        float lr = (float)LearningRate, momentum = (float)Momentum;
        var plain = Momentum == 0;
        var nesterov = Nesterov;
        Span<float> velocity = plain ? default : _velocity;
        var finite = true;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var pw = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var gw = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var vw = MemoryMarshal.Cast<float, Vector<float>>(velocity);
            var vlr = new Vector<float>(lr);
            var vmom = new Vector<float>(momentum);
            var max = new Vector<float>(float.MaxValue);
            for (int k = 0; k < pw.Length; k++)
            {
                var step = gw[k] * vlr;
                Vector<float> vk = default, pk;
                if (plain)
                {
                    pk = pw[k] - step;
                }
                else
                {
                    vk = vw[k] * vmom - step;
                    pk = pw[k] + (nesterov ? vk * vmom - step : vk);
                }

                if (TMode.Stores)
                {
                    if (!plain) vw[k] = vk;
                    pw[k] = pk;
                }
                else if (!Vector.LessThanOrEqualAll(Vector.Abs(pk), max) || !Vector.LessThanOrEqualAll(Vector.Abs(vk), max))
                {
                    finite = false;
                }
            }

            i = pw.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            float step = gradient[i] * lr;
            float vi = 0, pi;
            if (plain)
            {
                pi = parameters[i] - step;
            }
            else
            {
                vi = velocity[i] * momentum - step;
                pi = parameters[i] + (nesterov ? vi * momentum - step : vi);
            }

            if (TMode.Stores)
            {
                if (!plain) velocity[i] = vi;
                parameters[i] = pi;
            }
            else if (!float.IsFinite(pi) || !float.IsFinite(vi))
            {
                finite = false;
            }
        }

        return finite;
    }

    /// <inheritdoc/>
    /// <remarks>Hyperparameters: learning_rate, momentum, nesterov (1 or 0). With momentum the only slot is a copy of the velocity (none before the first step).</remarks>
    public override OptimizerState GetState()
    {
        float[][] slots = _velocity is null ? [] : [(float[])_velocity.Clone()];
        return new OptimizerState(
            KindName,
            Iterations,
            [("learning_rate", LearningRate), ("momentum", Momentum), ("nesterov", Nesterov ? 1.0 : 0.0)],
            slots);
    }

    /// <inheritdoc/>
    /// <remarks>Takes the iteration count, the hyperparameters named in the state (others keep their value) and a copy of the velocity.</remarks>
    /// <exception cref="ModelGenException">The state is not an SGD state, or its slots or settings are invalid.</exception>
    public override void SetState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != KindName)
        {
            throw new ModelGenException(
                $"Cannot restore an optimizer state of kind '{state.Kind}' into SGD; create the optimizer that matches the state (kind '{state.Kind}') or start a fresh SGD.");
        }

        if (state.Iterations is < 0 or > MaxIterations)
        {
            throw new ModelGenException(
                $"The SGD state has an impossible iteration count ({state.Iterations}; it is 0 to 2^53); the state is corrupt, start a fresh optimizer.");
        }

        double lr = LearningRate, momentum = Momentum;
        bool nesterov = Nesterov;
        foreach (var (name, value) in state.Hyperparameters ?? [])
        {
            switch (name)
            {
                case "learning_rate": lr = value; break;
                case "momentum": momentum = value; break;
                case "nesterov":
                    if (value != 0 && value != 1)
                    {
                        throw new ModelGenException($"The SGD state has nesterov = {value}; it must be 0 or 1.");
                    }

                    nesterov = value == 1;
                    break;
                default:
                    throw new ModelGenException(
                        $"The SGD state has an unknown hyperparameter '{name}'; SGD takes learning_rate, momentum and nesterov.");
            }
        }

        Validate(lr, momentum, (message, _) => new ModelGenException("The SGD state is invalid: " + message));

        var slots = state.Slots ?? [];
        if (momentum == 0 && slots.Length != 0)
        {
            throw new ModelGenException(
                $"The SGD state has momentum 0 but {slots.Length} slot(s); plain SGD keeps no velocity, so the state is corrupt or from another optimizer.");
        }

        if (momentum != 0)
        {
            if (slots.Length > 1 || (slots.Length == 1 && slots[0] is null))
            {
                throw new ModelGenException(
                    $"The SGD state with momentum must hold one slot (the velocity), but has {slots.Length}; the state is corrupt or from another optimizer.");
            }

            if (slots.Length == 0 && state.Iterations != 0)
            {
                throw new ModelGenException(
                    $"The SGD state has momentum and {state.Iterations} iterations but no velocity; the state is incomplete, start a fresh optimizer.");
            }
        }

        if (slots.Length == 1 && FirstInvalid(slots[0], nonNegative: false) is var bad and >= 0)
        {
            throw new ModelGenException($"The SGD state's velocity holds {slots[0][bad]} at {bad}; it must be finite, so the state is corrupt: start a fresh optimizer.");
        }

        LearningRate = lr;
        Momentum = momentum;
        Nesterov = nesterov;
        Iterations = state.Iterations;
        _velocity = slots.Length == 1 ? (float[])slots[0].Clone() : null;
    }

    /// <summary>Both settings validated before the base class takes the learning rate, so errors name the setting at fault.</summary>
    private static double CheckedLearningRate(double lr, double momentum)
    {
        Validate(lr, momentum, (message, name) => new ArgumentOutOfRangeException(name, message));
        return lr;
    }

    private static void Validate(double lr, double momentum, Func<string, string, Exception> error)
    {
        // Checked as the update uses them, as floats: 1e39 is a finite double but +Inf as a float.
        if (CheckLearningRate(lr) is { } problem) throw error(problem, "learningRate");

        if (!(momentum >= 0 && momentum <= 1))
        {
            throw error($"momentum must be in [0, 1], but is {momentum}.", "momentum");
        }
    }
}

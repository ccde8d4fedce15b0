using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Planning;

/// <summary>
/// Turns checked layer shapes into the <see cref="ModelPlan"/>: Keras names, the parameter layout (Keras layouts; the
/// trainable tensors first in layer order — kernel then bias, gamma then beta — then the non-trainable ones, moving mean
/// then moving variance, so the optimizer updates one contiguous prefix), fan-in and fan-out of each kernel, every buffer of a pass with its name and place, which layers
/// run backward and which compute d(loss)/d(input), costs (<see cref="ModelCosts"/>), the evaluation micro-batch and the GPU's gradient slicing. It
/// owns every decision the emitters act on; it is pure, so the plan tests need no compiler.
/// </summary>
internal static class ModelPlanner
{
    /// <summary>Floats a micro-batch's buffers may take (about 4 MB): an evaluation pass stays in the caches.</summary>
    public const long MicroBatchBudget = 1L << 20;

    /// <summary>The largest micro-batch; beyond it the kernels gain nothing.</summary>
    public const int MaxMicroBatch = 64;

    /// <summary>A GPU parameter-gradient kernel aims at about this many threads (parameters × batch slices).</summary>
    public const int GpuGradientThreadTarget = 65536;

    /// <summary>Most batch slices a GPU parameter gradient is split into before its fixed-order reduction.</summary>
    public const int GpuMaxSlices = 64;

    public static ModelPlan Plan(string ns, string className, Shape input, IReadOnlyList<ShapedLayer> shaped)
    {
        var kerasCounters = new Dictionary<LayerKind, int>();
        var layers = new List<LayerPlan>();
        var activations = new List<BufferPlan>();
        var gradients = new List<BufferPlan>();
        var passBuffers = new List<PassBufferPlan>();
        var passOffset = 0;
        var parameterOffset = 0;
        var trainableCount = shaped.Sum(TrainableCount);
        var stateOffset = trainableCount; // the non-trainable tensors follow every trainable one
        var trainableBefore = false;
        var current = ContractBuffers.Input;
        var currentShape = input;

        for (var i = 0; i < shaped.Count; i++)
        {
            var s = shaped[i];
            var isLast = i == shaped.Count - 1;
            kerasCounters.TryGetValue(s.Kind, out var seen);
            kerasCounters[s.Kind] = seen + 1;
            var name = KerasBaseName(s.Kind) + (seen == 0 ? string.Empty : "_" + seen.ToString(CultureInfo.InvariantCulture));

            var tensors = new List<ParameterTensor>();
            ParameterTensor Add(string role, int[] shape, bool trainable)
            {
                var tensor = new ParameterTensor(name + "/" + role, Identifier(name) + "_" + role, trainable ? parameterOffset : stateOffset, shape.ToEquatableArray(), trainable);
                if (trainable) parameterOffset += tensor.Length;
                else stateOffset += tensor.Length;
                tensors.Add(tensor);
                return tensor;
            }

            int fanIn = 0, fanOut = 0;
            if (s.Kind is LayerKind.Conv2D or LayerKind.Dense)
            {
                var kernelShape = s.Kind == LayerKind.Conv2D
                    ? new[] { s.KernelSize, s.KernelSize, s.Input.Channels, s.Size }
                    : new[] { (int)s.Input.Length, s.Size };
                Add("kernel", kernelShape, trainable: true);
                Add("bias", new[] { s.Size }, trainable: true);

                // Keras (Glorot): a conv kernel's fans are the receptive field times the channels in and out.
                var receptive = s.Kind == LayerKind.Conv2D ? s.KernelSize * s.KernelSize : 1;
                fanIn = receptive * (s.Kind == LayerKind.Conv2D ? s.Input.Channels : (int)s.Input.Length);
                fanOut = receptive * s.Size;
            }
            else if (s.Kind == LayerKind.BatchNormalization)
            {
                // Keras's weight order: gamma, beta (trainable), moving_mean, moving_variance (non-trainable).
                var channels = new[] { s.Input.Channels };
                Add("gamma", channels, trainable: true);
                Add("beta", channels, trainable: true);
                Add("moving_mean", channels, trainable: false);
                Add("moving_variance", channels, trainable: false);
            }

            var hasParameters = tensors.Any(t => t.Trainable);
            var runsBackward = trainableBefore || hasParameters;
            var needsInputGradient = trainableBefore;

            string output;
            if (isLast) output = ContractBuffers.Logits;
            else if (s.Kind == LayerKind.Flatten) output = current;    // channels last is already flat: a view
            else
            {
                output = Identifier(name) + "_out";
                activations.Add(new BufferPlan(output, $"{name} ({s.Kind} #{s.Position}) output", s.Output, 0));
            }

            string? outputGradient = null;
            if (runsBackward)
            {
                outputGradient = isLast ? ContractBuffers.LogitsGradient : GradientOf(output);
                if (!isLast && s.Kind != LayerKind.Flatten)
                {
                    gradients.Add(new BufferPlan(outputGradient, $"d(loss)/d({output})", s.Output, 0, IsGradient: true));
                }
            }

            string? sums = null, statistics = null;
            if (s.Kind == LayerKind.BatchNormalization)
            {
                var channels = s.Input.Channels;
                sums = Identifier(name) + "_sums";
                activations.Add(new BufferPlan(sums, $"{name} ({s.Kind} #{s.Position}) per-sample partial sums, [2, {channels}] each", Shape.Flat(2 * channels), 0));
                statistics = Identifier(name) + "_stats";
                passBuffers.Add(new PassBufferPlan(statistics,
                    $"{name} ({s.Kind} #{s.Position}) statistics of the pass: mean, variance, 1/sqrt(variance + epsilon), scale, shift, input-gradient slope and offset, [7, {channels}]",
                    7 * channels, passOffset));
                passOffset += 7 * channels;
            }

            layers.Add(new LayerPlan(
                s.Position, s.Kind, name, s.Input, s.Output, s.Size, s.KernelSize, s.Stride, s.Padding, s.PadTop, s.PadLeft, s.Activation,
                tensors.ToEquatableArray(), fanIn, fanOut,
                InputBuffer: current,
                OutputBuffer: output,
                InputGradientBuffer: needsInputGradient ? GradientOf(current) : null,
                OutputGradientBuffer: outputGradient,
                RunsBackward: runsBackward,
                MultiplyAdds: MultiplyAdds(s),
                BackwardMultiplyAdds: ModelCosts.BackwardMultiplyAdds(MultiplyAdds(s), hasParameters, needsInputGradient),
                GpuGradientSlices: s.Kind is LayerKind.Conv2D or LayerKind.Dense ? GpuSlices(tensors.Sum(t => t.Length)) : 1,
                Rate: s.Rate,
                Momentum: s.Momentum,
                Epsilon: s.Epsilon,
                SumsBuffer: sums,
                StatisticsBuffer: statistics));

            trainableBefore |= hasParameters;
            current = output;
            currentShape = s.Output;
        }

        // A pooling layer's backward pass applies the activation derivative of the layer before it (it reads that layer's
        // output anyway), so that layer skips its own pass over the gradient.
        for (var i = 1; i < layers.Count; i++)
        {
            var (before, pool) = (layers[i - 1], layers[i]);
            if (pool.Kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D && pool.NeedsInputGradient
                && before.Activation is ActivationKind.Tanh or ActivationKind.Relu or ActivationKind.Sigmoid
                && pool.InputBuffer == before.OutputBuffer)
            {
                layers[i] = pool with { InputActivation = before.Activation };
                layers[i - 1] = before with { ActivationGradientByNext = true };
            }
        }

        // The layer area: activations in layer order, then their gradients.
        var buffers = new List<BufferPlan>();
        long offset = 0;
        foreach (var b in activations.Concat(gradients))
        {
            buffers.Add(b with { OffsetPerSample = offset });
            offset += b.PerSample;
        }

        var perSample = input.Length + 2 * currentShape.Length + offset;
        var microBatch = MaxMicroBatch;
        while (microBatch > 1 && microBatch * perSample > MicroBatchBudget) microBatch /= 2;

        var gpuScratch = layers.Where(l => l.HasParameters && l.GpuGradientSlices > 1)
            .Select(l => (long)l.GpuGradientSlices * l.ParameterCount).DefaultIfEmpty(0).Max();
        var architecture = Architecture(input, shaped);
        var costs = ModelCosts.Of(input, layers, buffers, offset, passOffset, stateOffset, trainableCount);
        return new ModelPlan(
            ns, className, input, layers.ToEquatableArray(), buffers.ToEquatableArray(), stateOffset, trainableCount, offset, microBatch,
            architecture, Fingerprint(architecture), costs.ForwardMultiplyAdds, (int)gpuScratch, passBuffers.ToEquatableArray(), passOffset, costs);
    }

    /// <summary>Trainable parameters of a layer: Conv2D's and Dense's kernel and bias, BatchNormalization's gamma and beta.</summary>
    private static int TrainableCount(ShapedLayer s) => s.Kind switch
    {
        LayerKind.Conv2D => s.KernelSize * s.KernelSize * s.Input.Channels * s.Size + s.Size,
        LayerKind.Dense => (int)s.Input.Length * s.Size + s.Size,
        LayerKind.BatchNormalization => 2 * s.Input.Channels,
        _ => 0,
    };

    /// <summary>The name of the gradient of a buffer: conv2d_out → conv2d_grad_out.</summary>
    public static string GradientOf(string buffer) =>
        buffer == ContractBuffers.Logits ? ContractBuffers.LogitsGradient
        : buffer.EndsWith("_out", StringComparison.Ordinal) ? buffer.Substring(0, buffer.Length - 4) + "_grad_out"
        : buffer + "_grad";

    /// <summary>Multiply-adds of one sample's forward pass through the layer.</summary>
    public static long MultiplyAdds(ShapedLayer layer) => layer.Kind switch
    {
        LayerKind.Conv2D => layer.Output.Length * layer.KernelSize * layer.KernelSize * layer.Input.Channels,
        LayerKind.Dense => layer.Input.Length * layer.Size,
        LayerKind.BatchNormalization => layer.Output.Length, // y = x·scale + shift
        _ => 0,
    };

    /// <summary>How many batch slices the GPU splits a layer's parameter gradient into (more threads for small layers).</summary>
    public static int GpuSlices(int parameters) =>
        parameters <= 0 ? 1 : Math.Max(1, Math.Min(GpuMaxSlices, (GpuGradientThreadTarget + parameters - 1) / parameters));

    /// <summary>A Keras name as a C# identifier: conv2d_1 stays conv2d_1, max_pooling2d stays max_pooling2d.</summary>
    private static string Identifier(string kerasName) => kerasName;

    public static string KerasBaseName(LayerKind kind) => kind switch
    {
        LayerKind.Conv2D => "conv2d",
        LayerKind.MaxPool2D => "max_pooling2d",
        LayerKind.AvgPool2D => "average_pooling2d",
        LayerKind.Flatten => "flatten",
        LayerKind.BatchNormalization => "batch_normalization",
        LayerKind.Dropout => "dropout",
        LayerKind.GlobalAveragePooling2D => "global_average_pooling2d",
        _ => "dense",
    };

    /// <summary>The canonical text of the layer spec (its hash is the fingerprint model files are checked against).</summary>
    public static string Architecture(Shape input, IReadOnlyList<ShapedLayer> layers)
    {
        var text = new StringBuilder();
        text.Append("Input(").Append(input).Append(')');
        foreach (var layer in layers)
        {
            text.Append(' ');
            switch (layer.Kind)
            {
                case LayerKind.Conv2D:
                    text.Append(FormattableString.Invariant($"Conv2D({layer.Size},k{layer.KernelSize},s{layer.Stride},{layer.Padding.ToString().ToLowerInvariant()},{layer.Activation.ToString().ToLowerInvariant()})"));
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    text.Append(FormattableString.Invariant($"{layer.Kind}(p{layer.KernelSize},s{layer.Stride})"));
                    break;
                case LayerKind.Flatten:
                    text.Append("Flatten");
                    break;
                case LayerKind.Dense:
                    text.Append(FormattableString.Invariant($"Dense({layer.Size},{layer.Activation.ToString().ToLowerInvariant()})"));
                    break;
                case LayerKind.BatchNormalization:
                    text.Append("BatchNormalization(m").Append(Number(layer.Momentum)).Append(",e").Append(Number(layer.Epsilon)).Append(')');
                    break;
                case LayerKind.Dropout:
                    text.Append("Dropout(").Append(Number(layer.Rate)).Append(')');
                    break;
                case LayerKind.GlobalAveragePooling2D:
                    text.Append("GlobalAveragePooling2D");
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>A double in its shortest round-trip form, invariant culture: 0.99, 0.001, 1E-05.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>64-bit FNV-1a of the architecture text, as 16 hex digits: stable across machines and runs.</summary>
    public static string Fingerprint(string architecture)
    {
        const ulong offsetBasis = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(architecture))
        {
            hash ^= b;
            hash *= prime;
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}

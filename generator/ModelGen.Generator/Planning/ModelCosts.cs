using System;
using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Planning;

/// <summary>
/// What a network costs, known exactly at compile time: multiply-adds per sample and the bytes of each kind of memory it
/// needs. Emitted as constants and in the summary, so the cost of a model is read before it runs.
/// </summary>
/// <param name="ForwardMultiplyAdds">Multiply-adds of one sample's forward pass (convolutions and dense layers).</param>
/// <param name="TrainingMultiplyAdds">Multiply-adds of one sample's training step: forward, kernel gradients and input gradients.</param>
/// <param name="ParameterBytes">The parameter buffer: trainable parameters and non-trainable state (BatchNormalization's moving statistics).</param>
/// <param name="OptimizerStateBytes">Adam's two moments per trainable parameter (Fit's default optimizer).</param>
/// <param name="ActivationBytesPerSample">What one sample's forward pass writes: its input, every layer's output and the logits.</param>
/// <param name="WorkspaceBatchSize">The batch <paramref name="WorkspaceBytesPerBatch"/> is for: Fit's default batch size.</param>
/// <param name="WorkspaceBytesPerBatch">The CPU workspace of one training pass of that batch: activations, their gradients, batch statistics and kernel scratch.</param>
internal sealed record ModelCosts(
    long ForwardMultiplyAdds,
    long TrainingMultiplyAdds,
    long ParameterBytes,
    long OptimizerStateBytes,
    long ActivationBytesPerSample,
    int WorkspaceBatchSize,
    long WorkspaceBytesPerBatch)
{
    /// <summary>Fit's default batch size (GeneratedCode.FitParameters), the batch the workspace figure is given for.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>Floats of optimizer state Adam keeps per trainable parameter: the first and second moments.</summary>
    public const int AdamSlots = 2;

    /// <summary>
    /// The costs of planned layers whose layer area holds <paramref name="buffers"/> (<paramref name="layerFloatsPerSample"/>
    /// floats per sample) and whose pass area holds <paramref name="passFloats"/> floats.
    /// </summary>
    public static ModelCosts Of(
        Shape input, IReadOnlyList<LayerPlan> layers, IReadOnlyList<BufferPlan> buffers, long layerFloatsPerSample, int passFloats,
        int parameterCount, int trainableParameterCount)
    {
        var output = layers[layers.Count - 1].Output.Length;
        var forward = layers.Sum(l => l.MultiplyAdds);
        var backward = layers.Sum(l => l.BackwardMultiplyAdds);

        // The forward pass's values: the input, each layer's output buffer (not the gradients, which only training writes,
        // nor BatchNormalization's per-sample partial sums, which only training's batch statistics use; Flatten is a view
        // and has none) and the logits.
        var statistics = new HashSet<string>(layers.Where(l => l.SumsBuffer is not null).Select(l => l.SumsBuffer!));
        var activations = buffers.Where(b => !b.IsGradient && !statistics.Contains(b.Identifier)).Sum(b => b.PerSample);
        var activationFloats = input.Length + activations + output;

        var batch = DefaultBatchSize;
        var scratch = layers.Select(l => KernelScratchFloats(l, batch)).DefaultIfEmpty(0).Max();
        var workspace = (long)batch * (input.Length + 2 * output + layerFloatsPerSample) + passFloats + scratch;

        return new ModelCosts(
            forward,
            forward + backward,
            sizeof(float) * (long)parameterCount,
            sizeof(float) * AdamSlots * (long)trainableParameterCount,
            sizeof(float) * activationFloats,
            batch,
            sizeof(float) * workspace);
    }

    /// <summary>
    /// Multiply-adds of a layer's backward pass per sample: its kernel gradient (one per forward multiply-add) and, when a
    /// layer before it trains, its input gradient (one more per forward multiply-add). Pooling and activations multiply nothing.
    /// </summary>
    public static long BackwardMultiplyAdds(long forward, bool hasParameters, bool needsInputGradient) =>
        (hasParameters ? forward : 0) + (needsInputGradient ? forward : 0);

    /// <summary>
    /// Floats of scratch the CPU kernels of a convolution or dense layer take for a pass of <paramref name="capacity"/>
    /// samples: zero-bordered copies of the input when the windows reach past it, and the larger of the transposed
    /// weights and the kernel gradient's per-chunk partial sums, and for an interleaved layer its tables and slack. This is the rule of the runtime's
    /// <c>Convolution.ScratchLength</c> (Dense runs as a 1 x 1 convolution of a 1 x 1 image); the numerics tests hold
    /// the two equal for every network they build, so the constant cannot drift from what the kernels allocate.
    /// </summary>
    public static long KernelScratchFloats(LayerPlan layer, int capacity)
    {
        int inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, kernel, stride, padTop, padLeft;
        switch (layer.Kind)
        {
            case LayerKind.Conv2D:
                (inHeight, inWidth, inChannels) = (layer.Input.Height, layer.Input.Width, layer.Input.Channels);
                (outHeight, outWidth, outChannels) = (layer.Output.Height, layer.Output.Width, layer.Output.Channels);
                (kernel, stride, padTop, padLeft) = (layer.KernelSize, layer.Stride, layer.PadTop, layer.PadLeft);
                break;
            case LayerKind.Dense:
                (inHeight, inWidth, inChannels) = (1, 1, (int)layer.Input.Length);
                (outHeight, outWidth, outChannels) = (1, 1, layer.Size);
                (kernel, stride, padTop, padLeft) = (1, 1, 0, 0);
                break;
            default:
                return 0;
        }

        long paddedHeight = (outHeight - 1L) * stride + kernel;
        long paddedWidth = (outWidth - 1L) * stride + kernel;
        var padded = padTop > 0 || padLeft > 0 || paddedHeight > inHeight || paddedWidth > inWidth;
        var samplesAsRows = outHeight == 1 && outWidth == 1;
        // The interleaved forward pass (one input channel, few filters, stride 1): it reads a copy of the input followed by
        // slack, and builds its weight tables in the scratch (Convolution.Interleaving).
        var interleaved = inChannels == 1 && outChannels <= InterleavedMaxChannels && stride == 1 && !samplesAsRows
            && (long)kernel * kernel * ((long)outWidth * outChannels + InterleavedMaxSlots * 16) <= InterleavedBandFloats
            && InterleavedMaxSlots * 16 + 16 + kernel <= InterleavedSlack;
        var copied = padded || interleaved;
        var image = (padded ? paddedHeight : inHeight) * (padded ? paddedWidth : inWidth) * inChannels;
        var linePad = ((long)kernel * inChannels + 15) & ~15L;
        var transposedWeights = outChannels * kernel * linePad;
        var kernelLength = (long)kernel * kernel * inChannels * outChannels;
        var chunks = samplesAsRows ? 1 : Math.Min(Math.Max((capacity + 7) / 8, 1), 8);
        var tables = interleaved ? (2L + kernel * kernel) * outChannels * 16 + InterleavedSlack : 0;
        return (copied ? 2L * capacity * image : 0) + Math.Max(transposedWeights, chunks * kernelLength) + tables;
    }

    // The runtime's constants for the interleaved convolution (Convolution's MaxInterleavedChannels, MaxSlots,
    // ExpandedBandFloats and Slack).
    private const int InterleavedMaxChannels = 8;
    private const int InterleavedMaxSlots = 12;
    private const int InterleavedBandFloats = 16384;
    private const int InterleavedSlack = 512;
}

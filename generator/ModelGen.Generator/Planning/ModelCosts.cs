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
/// <param name="ParameterBytes">The parameter buffer.</param>
/// <param name="OptimizerStateBytes">Adam's two moments per trainable parameter (Fit's default optimizer).</param>
/// <param name="ActivationBytesPerSample">What one sample's forward pass writes: its input, every layer's output and the logits.</param>
/// <param name="WorkspaceBatchSize">The batch <paramref name="WorkspaceBytesPerBatch"/> is for: Fit's default batch size.</param>
/// <param name="WorkspaceBytesPerBatch">The CPU workspace of one training pass of that batch: activations, their gradients and kernel scratch.</param>
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

    /// <summary>The costs of planned layers whose layer area holds <paramref name="buffers"/>.</summary>
    public static ModelCosts Of(Shape input, IReadOnlyList<LayerPlan> layers, IReadOnlyList<BufferPlan> buffers, long layerFloatsPerSample, int parameterCount)
    {
        var output = layers[layers.Count - 1].Output.Length;
        var forward = layers.Sum(l => l.MultiplyAdds);
        var backward = layers.Sum(l => l.BackwardMultiplyAdds);

        // The forward pass's values: the input, each activation buffer (not the gradients, which only training writes;
        // Flatten is a view and has none) and the logits.
        var activations = buffers.Where(b => !b.IsGradient).Sum(b => b.PerSample);
        var activationFloats = input.Length + activations + output;

        var batch = DefaultBatchSize;
        var scratch = layers.Select(l => KernelScratchFloats(l, batch)).DefaultIfEmpty(0).Max();
        var workspace = (long)batch * (input.Length + 2 * output + layerFloatsPerSample) + scratch;

        return new ModelCosts(
            forward,
            forward + backward,
            sizeof(float) * (long)parameterCount,
            sizeof(float) * AdamSlots * (long)parameterCount,
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
    /// weights and the kernel gradient's per-chunk partial sums. This is the rule of the runtime's
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
        var image = (padded ? paddedHeight : inHeight) * (padded ? paddedWidth : inWidth) * inChannels;
        var linePad = ((long)kernel * inChannels + 15) & ~15L;
        var transposedWeights = outChannels * kernel * linePad;
        var kernelLength = (long)kernel * kernel * inChannels * outChannels;
        var chunks = outHeight == 1 && outWidth == 1 ? 1 : Math.Min(Math.Max((capacity + 7) / 8, 1), 8);
        return (padded ? 2L * capacity * image : 0) + Math.Max(transposedWeights, chunks * kernelLength);
    }
}

namespace ModelGen;

/// <summary>Prediction helpers behind the generated <c>Predict</c> members.</summary>
public static class Inference
{
    // One workspace per thread and network size: one-image prediction allocates nothing but its result.
    [ThreadStatic] private static float[]? t_workspace;

    private static float[] Workspace(int length)
    {
        var workspace = t_workspace;
        if (workspace is null || workspace.Length < length) t_workspace = workspace = new float[length];
        return workspace;
    }

    /// <summary>Runs one sample and returns the network's output (class probabilities after a softmax).</summary>
    public static float[] Predict(INetwork network, ReadOnlySpan<float> input)
    {
        var output = new float[network.Description.OutputLength];
        Predict(network, input, output);
        return output;
    }

    /// <summary>Runs one sample into <paramref name="output"/> without allocating.</summary>
    public static void Predict(INetwork network, ReadOnlySpan<float> input, Span<float> output)
    {
        var d = network.Description;
        if (input.Length != d.InputLength) throw ModelInputException.WrongInputLength(input.Length, d.InputLength);
        var bad = Trainer.FirstNonFinite(input);
        if (bad >= 0) throw ModelInputException.NotFinite("The input", 0, bad, input[bad]);
        network.Forward(input, Workspace(d.WorkspaceLength), output);
        ThrowIfNotFinite(network, output, 0);
    }

    /// <summary>An output that is NaN or infinite is never returned as a prediction.</summary>
    private static void ThrowIfNotFinite(INetwork network, ReadOnlySpan<float> outputs, int firstSample)
    {
        var bad = Trainer.FirstNonFinite(outputs);
        if (bad < 0) return;
        var d = network.Description;
        var weights = Trainer.FirstNonFinite(network.Parameters) is var w and >= 0
            ? $"its weights are not finite (parameter {NetworkDescription.NameOf(d, w)} is {network.Parameters[w]}); load a model file saved intact"
            : "the computation overflowed; check that the input is scaled as in training (e.g. x/255)";
        throw new ModelInputException(
            $"{d.Name}'s output for sample {firstSample + bad / d.OutputLength} is {outputs[bad]} at position {bad % d.OutputLength}, not a prediction: {weights}.");
    }

    /// <summary>Runs one 8-bit image: pixels are scaled to [0, 1] (x / 255) as in training.</summary>
    public static float[] Predict(INetwork network, ReadOnlySpan<byte> image)
    {
        var d = network.Description;
        if (image.Length != d.InputLength) throw ModelInputException.WrongInputLength(image.Length, d.InputLength);
        var input = new float[image.Length];
        for (var i = 0; i < image.Length; i++) input[i] = image[i] * (1f / 255f);
        return Predict(network, input);
    }

    /// <summary>The index of the largest output for one sample.</summary>
    public static int PredictClass(INetwork network, ReadOnlySpan<float> input)
    {
        Span<float> output = stackalloc float[network.Description.OutputLength];
        Predict(network, input, output);
        return BatchEngine.ArgMax(output);
    }

    /// <summary>Runs samples laid one after the other in <paramref name="inputs"/>, in parallel; returns count x OutputLength values.</summary>
    public static unsafe float[] PredictBatch(INetwork network, ReadOnlySpan<float> inputs)
    {
        var d = network.Description;
        if (inputs.Length % d.InputLength != 0)
        {
            throw new ModelInputException($"The batch has {inputs.Length} values, not a whole number of samples of {d.InputLength}; pass count x {d.InputLength} values.");
        }

        var bad = Trainer.FirstNonFinite(inputs);
        if (bad >= 0) throw ModelInputException.NotFinite("The batch", bad / d.InputLength, bad % d.InputLength, inputs[bad]);
        var count = inputs.Length / d.InputLength;
        var outputs = new float[count * d.OutputLength];
        fixed (float* pinned = inputs)
        {
            var address = (nint)pinned;
            // Small blocks keep the cores evenly busy on batches of a few dozen samples.
            const int Block = 8;
            Parallel.For(0, (count + Block - 1) / Block, block =>
            {
                var all = new ReadOnlySpan<float>((float*)address, count * d.InputLength);
                var workspace = Workspace(d.WorkspaceLength);
                var end = Math.Min(count, (block + 1) * Block);
                for (var i = block * Block; i < end; i++)
                {
                    network.Forward(all.Slice(i * d.InputLength, d.InputLength), workspace, outputs.AsSpan(i * d.OutputLength, d.OutputLength));
                }
            });
        }

        ThrowIfNotFinite(network, outputs, 0);
        return outputs;
    }
}

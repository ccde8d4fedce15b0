using System.Runtime.CompilerServices;
using ModelGen.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Prediction behind the generated <c>Predict</c> members.</summary>
internal static class Inference
{
    // One-sample prediction runs on the calling thread in a workspace of its own: nothing is allocated but the result.
    [ThreadStatic] private static float[]? t_workspace;

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
        var passes = GeneratedModel.Passes(network);
        var d = network.Description;
        if (input.Length != d.InputLength) throw ModelInputException.WrongInputLength(input.Length, d.InputLength);
        if (output.Length < d.OutputLength)
        {
            throw new ArgumentException($"The output span holds {output.Length} floats; {d.Name} writes {d.OutputLength}.", nameof(output));
        }

        var bad = Trainer.FirstNonFinite(input);
        if (bad >= 0) throw ModelInputException.NotFinite("The input", 0, bad, input[bad]);
        var length = passes.WorkspaceLength(1);
        var workspace = t_workspace;
        if (workspace is null || workspace.Length < length) t_workspace = workspace = new float[length];
        input.CopyTo(WorkspaceLayout.Input(workspace, 1, d.InputLength, d.OutputLength));
        passes.Forward(new BatchPass(1, 1, training: false, pool: null), network.Parameters, workspace);
        ToOutputs(d, WorkspaceLayout.Logits(workspace, 1, d.InputLength, d.OutputLength), output);
        ThrowIfNotFinite(network, output.Slice(0, d.OutputLength));
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
        var best = 0;
        for (var i = 1; i < output.Length; i++)
        {
            if (output[i] > output[best]) best = i;
        }

        return best;
    }

    /// <summary>Runs samples laid one after the other in <paramref name="inputs"/>, in parallel; returns count x OutputLength values.</summary>
    public static float[] PredictBatch(INetwork network, ReadOnlySpan<float> inputs)
    {
        var d = network.Description;
        if (inputs.Length % d.InputLength != 0)
        {
            throw new ModelInputException($"The batch has {inputs.Length} values, not a whole number of samples of {d.InputLength}; pass count x {d.InputLength} values.");
        }

        var bad = Trainer.FirstNonFinite(inputs);
        if (bad >= 0) throw ModelInputException.NotFinite("The batch", bad / d.InputLength, bad % d.InputLength, inputs[bad]);
        var outputs = new float[inputs.Length / d.InputLength * d.OutputLength];
        if (outputs.Length == 0) return outputs;
        using (var lease = InferenceEngines.Lease(network)) lease.Engine.PredictBatch(inputs, outputs);
        ThrowIfNotFinite(network, outputs);
        return outputs;
    }

    /// <summary>The network's outputs from its logits: their softmax after a softmax layer, else the logits themselves.</summary>
    internal static void ToOutputs(NetworkDescription description, ReadOnlySpan<float> logits, Span<float> outputs)
    {
        if (description.SoftmaxOutput) Losses.Softmax(logits, outputs, description.OutputLength);
        else logits.CopyTo(outputs);
    }

    /// <summary>An output that is NaN or infinite is never returned as a prediction.</summary>
    internal static void ThrowIfNotFinite(INetwork network, ReadOnlySpan<float> outputs)
    {
        var bad = Trainer.FirstNonFinite(outputs);
        if (bad < 0) return;
        var d = network.Description;
        var weights = Trainer.FirstNonFinite(network.Parameters) is var w and >= 0
            ? $"its weights are not finite (parameter {NetworkDescription.NameOf(d, w)} is {network.Parameters[w]}); load a model file saved intact"
            : "the computation overflowed; check that the input is scaled as in training (e.g. x/255)";
        throw new ModelInputException(
            $"{d.Name}'s output for sample {bad / d.OutputLength} is {outputs[bad]} at position {bad % d.OutputLength}, not a prediction: {weights}.");
    }
}

/// <summary>
/// Engines for prediction and evaluation calls that bring no threads of their own: one per network (its workspace stays
/// allocated between calls), all on one pool of every core, shared by the process and used by one call at a time. A call
/// that finds the pool busy (another thread predicting) runs on a fresh engine on its own thread instead of waiting.
/// </summary>
internal static class InferenceEngines
{
    private static readonly ConditionalWeakTable<INetwork, CpuEngine> s_engines = new();
    private static readonly Lazy<WorkerPool> s_pool = new(() => new WorkerPool(Trainer.ThreadCount(threads: null, "threads")));

    public static Lease Lease(INetwork network)
    {
        var pool = s_pool.Value;
        if (Monitor.TryEnter(pool)) return new Lease(s_engines.GetValue(network, n => new CpuEngine(n, pool)), pool);
        return new Lease(new CpuEngine(network, pool: null), pool: null);
    }
}

/// <summary>An engine held for one call: the shared pool's (released after it) or one of its own (disposed after it).</summary>
internal readonly struct Lease(CpuEngine engine, WorkerPool? pool) : IDisposable
{
    public CpuEngine Engine { get; } = engine;

    public void Dispose()
    {
        if (pool is not null) Monitor.Exit(pool);
        else Engine.Dispose();
    }
}

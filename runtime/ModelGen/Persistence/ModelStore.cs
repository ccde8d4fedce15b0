namespace ModelGen;

/// <summary>Saves and loads generated networks through <see cref="ModelFile"/> (behind the generated Save and Load).</summary>
public static class ModelStore
{
    /// <summary>
    /// Saves parameters, optimizer state and history of <paramref name="network"/> atomically. It may be called while
    /// <see cref="Trainer.Fit"/> trains the network on another thread: the file is a snapshot taken between two steps.
    /// </summary>
    /// <exception cref="ModelFileException">A value is not finite (<see cref="ModelFileError.NonFiniteValue"/>, naming its tensor), or the file cannot be written.</exception>
    public static void Save(INetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        var d = network.Description;
        ModelFileContent content;
        lock (Gate(network))
        {
            content = new ModelFileContent
            {
                ModelType = d.Name,
                Fingerprint = d.Fingerprint,
                Architecture = d.Architecture,
                ParameterCount = d.ParameterCount,
                TrainableParameterCount = d.TrainableParameterCount,
                Parameters = (float[])network.Parameters.Clone(),
                Optimizer = network.Optimizer?.GetState(),
                HistoryJson = network.History?.ToJson(),
            };
        }

        ModelFile.Save(path, content, wrapStream: null, d);
    }

    /// <summary>Loads a file saved for the same architecture into <paramref name="network"/>; nothing changes when it fails.</summary>
    /// <exception cref="ModelFileException">The file cannot be read, is of another architecture, holds a non-finite value or an optimizer state that cannot be restored.</exception>
    public static void LoadInto(INetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        Fill(network, ModelFile.Load(path, network.Description), path);
    }

    /// <summary>
    /// Loads a model file from <paramref name="stream"/> (from its position to its end) into <paramref name="network"/>,
    /// as <see cref="LoadInto(INetwork, string)"/> does from a file; <paramref name="name"/> names the stream in errors.
    /// </summary>
    /// <exception cref="ModelFileException">The bytes are not a model file of this architecture, or are damaged.</exception>
    public static void LoadInto(INetwork network, Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        name = ModelFile.ShownName(stream, name);
        Fill(network, ModelFile.Load(stream, name, network.Description), name);
    }

    private static void Fill(INetwork network, ModelFileContent content, string path)
    {
        var optimizer = content.Optimizer is { } state ? RestoreOptimizer(state, path) : null;
        TrainingHistory? history;
        try
        {
            history = content.HistoryJson is { } json ? TrainingHistory.FromJson(json) : null;
        }
        catch (ModelGenException e)
        {
            throw new ModelFileException(ModelFileError.Corrupt, path, $"Model file '{path}' holds a training history that cannot be read: {e.Message}", e);
        }

        lock (Gate(network))
        {
            content.Parameters.CopyTo(network.Parameters, 0);
            network.Optimizer = optimizer;
            network.History = history;
        }
    }

    /// <summary>
    /// The lock under which training changes a network's parameters, optimizer state and history, and under which
    /// <see cref="Save"/> copies them: so a file that Save wrote is one consistent state that loads. The parameter
    /// buffer serves as the lock because every network owns that one object for its whole life.
    /// </summary>
    internal static object Gate(INetwork network) => network.Parameters;

    private static Optimizer RestoreOptimizer(OptimizerState state, string path)
    {
        Optimizer optimizer = state.Kind switch
        {
            Adam.KindName => new Adam(),
            Sgd.KindName => new Sgd(),
            _ => throw new ModelFileException(ModelFileError.Corrupt, path,
                $"{path}: the saved optimizer '{state.Kind}' is unknown to this ModelGen; save it again or load the weights with another version."),
        };
        try
        {
            optimizer.SetState(state);
        }
        catch (ModelGenException e)
        {
            throw new ModelFileException(ModelFileError.Corrupt, path,
                $"Model file '{path}' holds an optimizer state that cannot be restored: {e.Message}", e);
        }

        return optimizer;
    }
}

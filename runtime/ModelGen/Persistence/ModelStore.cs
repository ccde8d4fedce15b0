namespace ModelGen;

/// <summary>Saves and loads generated networks through <see cref="ModelFile"/> (behind the generated Save and Load).</summary>
public static class ModelStore
{
    /// <summary>Saves parameters, optimizer state and history of <paramref name="network"/> atomically.</summary>
    public static void Save(INetwork network, string path)
    {
        var d = network.Description;
        ModelFile.Save(path, new ModelFileContent
        {
            ModelType = d.Name,
            Fingerprint = d.Fingerprint,
            Architecture = d.Architecture,
            ParameterCount = d.ParameterCount,
            Parameters = network.Parameters,
            Optimizer = network.Optimizer?.GetState(),
            HistoryJson = network.History?.ToJson(),
        });
    }

    /// <summary>Loads a file saved for the same architecture into <paramref name="network"/>; nothing changes when it fails.</summary>
    public static void LoadInto(INetwork network, string path)
    {
        var content = ModelFile.Load(path, network.Description);
        var optimizer = content.Optimizer is { } state ? RestoreOptimizer(state, path) : null;
        var history = content.HistoryJson is { } json ? TrainingHistory.FromJson(json) : null;
        content.Parameters.CopyTo(network.Parameters, 0);
        network.Optimizer = optimizer;
        network.History = history;
    }

    private static Optimizer RestoreOptimizer(OptimizerState state, string path)
    {
        Optimizer optimizer = state.Kind switch
        {
            Adam.KindName => new Adam(),
            Sgd.KindName => new Sgd(),
            _ => throw new ModelFileException(ModelFileError.Corrupt, path,
                $"{path}: the saved optimizer '{state.Kind}' is unknown to this ModelGen; save it again or load the weights with another version."),
        };
        optimizer.SetState(state);
        return optimizer;
    }
}

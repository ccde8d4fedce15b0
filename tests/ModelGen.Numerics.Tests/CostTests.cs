using ModelGen.CompilerServices;
using ModelGen.Numerics.Tests.Models;

namespace ModelGen.Numerics.Tests;

/// <summary>
/// The cost constants the generator writes, for every test model, against what the runtime really does: the workspace
/// the CPU engine allocates for a batch of 32, and the counts of the layers the reference network spells out itself.
/// (Hand counts of whole networks are in the generator's CostTests.)
/// </summary>
public class CostTests
{
    public static TheoryData<string> AllModels() => Catalog.AllNames();

    private static long Constant(INetwork network, string name) => (long)network.GetType().GetField(name)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(AllModels))]
    public void WorkspaceBytesPerBatch_IsWhatTheEngineAllocatesForABatchOf32(string name)
    {
        var network = Catalog.Get(name).Create(1);
        Assert.Equal(sizeof(float) * ((IGeneratedNetwork)network).WorkspaceLength(32), Constant(network, "WorkspaceBytesPerBatch"));
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Counts_FollowTheReferenceLayers(string name)
    {
        var model = Catalog.Get(name);
        var network = model.Create(1);
        long forward = 0, kernelGradients = 0, inputGradients = 0, activations = model.Reference.Input.Length;
        var trainableBefore = false;
        foreach (var (layer, index) in model.Reference.Layers.Select((l, i) => (l, i)))
        {
            // A convolution multiplies its window (padding taps included) for every output value; a dense layer every input
            // by every unit; BatchNormalization each value by its channel's scale (y = x·scale + shift).
            long multiplyAdds = layer.Kind switch
            {
                Reference.RefKind.Conv2D => (long)layer.Out.Length * layer.K * layer.K * layer.In.C,
                Reference.RefKind.Dense => (long)layer.In.Length * layer.Size,
                Reference.RefKind.BatchNormalization => layer.Out.Length,
                _ => 0,
            };
            forward += multiplyAdds;
            if (layer.TrainableCount > 0) kernelGradients += multiplyAdds;
            if (trainableBefore) inputGradients += multiplyAdds;
            trainableBefore |= layer.TrainableCount > 0;
            // Flatten only re-reads its input's values, unless it is last and so writes the network's output.
            if (layer.Kind != Reference.RefKind.Flatten || index == model.Reference.Layers.Count - 1) activations += layer.Out.Length;
        }

        Assert.Equal(forward, Constant(network, "ForwardMultiplyAdds"));
        Assert.Equal(forward + kernelGradients + inputGradients, Constant(network, "TrainingMultiplyAddsPerSample"));
        Assert.Equal(4L * model.Reference.ParameterCount, Constant(network, "ParameterBytes"));
        // Adam's two moments cover the trainable parameters only (not BatchNormalization's moving statistics).
        Assert.Equal(8L * model.Reference.TrainableParameterCount, Constant(network, "OptimizerStateBytes"));
        Assert.Equal(4 * activations, Constant(network, "ActivationBytesPerSample"));
    }
}

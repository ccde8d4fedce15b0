using ModelGen.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.Numerics.Tests.Reference;

/// <summary>
/// Runs a generated network's passes directly, as the runtime's engines do, in a workspace (and a gradient buffer) that
/// start full of NaN: a pass that read anything it did not write first would show NaN in its results.
/// </summary>
internal sealed class Passes : IDisposable
{
    private readonly INetwork _network;
    private readonly IGeneratedNetwork _passes;
    private readonly WorkerPool? _pool;
    private readonly float[] _workspace;
    private readonly int _capacity;

    public Passes(INetwork network, int capacity, int threads = 1)
    {
        _network = network;
        _passes = (IGeneratedNetwork)network;
        _capacity = capacity;
        _pool = threads > 1 ? new WorkerPool(threads) : null;
        _workspace = new float[_passes.WorkspaceLength(capacity)];
        Array.Fill(_workspace, float.NaN);
    }

    private NetworkDescription D => _network.Description;

    private Span<float> Input => WorkspaceLayout.Input(_workspace, _capacity, D.InputLength, D.OutputLength);

    private Span<float> Logits => WorkspaceLayout.Logits(_workspace, _capacity, D.InputLength, D.OutputLength);

    private Span<float> LogitsGradient => WorkspaceLayout.LogitsGradient(_workspace, _capacity, D.InputLength, D.OutputLength);

    private BatchPass Pass(int count, bool training, ulong dropoutKey) => new(count, _capacity, training, _pool, dropoutKey);

    /// <summary>The logits of each sample: the last layer's values before any softmax (training: dropout masks of <paramref name="dropoutKey"/>).</summary>
    public float[][] Forward(IReadOnlyList<float[]> inputs, bool training = false, ulong dropoutKey = 0)
    {
        for (var i = 0; i < inputs.Count; i++) inputs[i].CopyTo(Input.Slice(i * D.InputLength, D.InputLength));
        _passes.Forward(Pass(inputs.Count, training, dropoutKey), _network.Parameters, _workspace);
        var result = new float[inputs.Count][];
        for (var i = 0; i < inputs.Count; i++) result[i] = Logits.Slice(i * D.OutputLength, D.OutputLength).ToArray();
        return result;
    }

    /// <summary>Forward, then backward from the given d(loss)/d(logits): the parameter gradient summed over the samples.</summary>
    public float[] Gradient(IReadOnlyList<float[]> inputs, IReadOnlyList<float[]> logitsGradient, ulong dropoutKey = 0)
    {
        Forward(inputs, training: true, dropoutKey);
        for (var i = 0; i < inputs.Count; i++) logitsGradient[i].CopyTo(LogitsGradient.Slice(i * D.OutputLength, D.OutputLength));
        var gradient = new float[D.TrainableParameterCount];
        Array.Fill(gradient, float.NaN);
        _passes.Backward(Pass(inputs.Count, training: true, dropoutKey), _network.Parameters, _workspace, gradient);
        return gradient;
    }

    /// <summary>After <see cref="Forward"/> in training mode: the network's moving statistics take one step toward the pass's.</summary>
    public void UpdateStatistics(int count) =>
        _passes.UpdateStatistics(Pass(count, training: true, 0), _network.Parameters, _workspace);

    public void Dispose() => _pool?.Dispose();
}

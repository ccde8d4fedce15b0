using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// Computes losses and mean gradients of batches in parallel with a deterministic reduction: a batch is split into a
/// fixed number of chunks, each summed sequentially into its own gradient buffer, and the chunk buffers are added in
/// chunk order. The result is therefore bit-identical whatever the number of threads.
/// </summary>
internal sealed class BatchEngine : IDisposable
{
    /// <summary>Chunks per batch: fixed, so the summation order never depends on the thread count.</summary>
    public const int Chunks = 8;

    private const int ReduceBlock = 4096;
    private const int EvaluationChunk = 256;

    private readonly INetwork _network;
    private readonly WorkerPool _pool;
    private readonly float[][] _workspaces;
    private readonly float[][] _outputs;
    private readonly float[][] _chunkGradients;
    private readonly double[] _chunkLoss = new double[Chunks];
    private readonly int[] _chunkCorrect = new int[Chunks];
    private readonly Action<int, int> _gradientJob;
    private readonly Action<int, int> _reduceJob;
    private readonly Action<int, int> _applyJob;
    private readonly Action<int, int> _evaluateJob;

    // The batch being processed (set before each Run, read by the jobs).
    private Dataset _data = null!;
    private int[] _order = [];
    private int _start;
    private int _count;
    private float[] _target = [];
    private Optimizer? _stepOptimizer;
    private float[]? _stepParameters;
    private volatile bool _updateNotFinite;
    private double[] _evaluationLoss = [];
    private int[] _evaluationCorrect = [];

    public BatchEngine(INetwork network, int threads)
    {
        _network = network;
        _pool = new WorkerPool(threads);
        var d = network.Description;
        _workspaces = new float[_pool.WorkerCount][];
        _outputs = new float[_pool.WorkerCount][];
        for (var t = 0; t < _pool.WorkerCount; t++)
        {
            _workspaces[t] = new float[d.WorkspaceLength];
            _outputs[t] = new float[d.OutputLength];
        }

        _chunkGradients = new float[Chunks][];
        for (var c = 0; c < Chunks; c++) _chunkGradients[c] = new float[d.ParameterCount];
        _gradientJob = GradientChunk;
        _reduceJob = ReduceBlockJob;
        _applyJob = ApplyBlockJob;
        _evaluateJob = EvaluateChunk;
    }

    /// <summary>
    /// Mean gradient of the samples order[start..start+count) of <paramref name="data"/>, written to
    /// <paramref name="meanGradient"/>; returns the summed loss and the number of correct predictions.
    /// </summary>
    public (double LossSum, int Correct) Gradient(Dataset data, int[] order, int start, int count, float[] meanGradient)
    {
        var result = Accumulate(data, order, start, count);
        Reduce(meanGradient, optimizer: null, parameters: null);
        return result;
    }

    /// <summary>
    /// One training step: the batch's mean gradient (into <paramref name="meanGradient"/>) and, when the loss is finite
    /// and the update is too, the optimizer's update of <paramref name="parameters"/>. Returns the summed loss (NaN or
    /// infinite: nothing was updated), the correct count, and why the update was refused (null when it was applied).
    /// </summary>
    /// <remarks>
    /// An update is applied only once it is known to leave every weight and optimizer value finite, so a refused step
    /// changes nothing and "the weights before this step are kept" is true. With an optimizer that updates in ranges, the
    /// first parallel pass reduces the gradient and runs the update of each range dry (<see cref="Optimizer.RangeStaysFinite"/>:
    /// the very arithmetic of the update, nothing stored), the second applies it; the step's scalars are checked before
    /// either (<see cref="Optimizer.BeginStep"/>). The cost is one more read of the weights, moments and gradient per step.
    /// </remarks>
    public (double LossSum, int Correct, string? Refused) Step(
        Dataset data, int[] order, int start, int count, float[] meanGradient, Optimizer optimizer, float[] parameters)
    {
        var result = Accumulate(data, order, start, count);
        if (!double.IsFinite(result.LossSum))
        {
            Reduce(meanGradient, optimizer: null, parameters: null); // leaves the chunk buffers zeroed for the next call
            return (result.LossSum, result.Correct, null);
        }

        string? refused;
        if (optimizer.SupportsRanges)
        {
            refused = optimizer.BeginStep(parameters.Length);
            _updateNotFinite = false;
            Reduce(meanGradient, refused is null ? optimizer : null, parameters);
            if (refused is null && _updateNotFinite) refused = UpdateRefusal.Describe(meanGradient, _network.Description);
            if (refused is null)
            {
                _stepOptimizer = optimizer;
                _stepParameters = parameters;
                _pool.Run(Blocks(meanGradient.Length), _applyJob);
                _stepOptimizer = null;
                _stepParameters = null;
                optimizer.EndStep();
            }
            else
            {
                optimizer.AbortStep();
            }
        }
        else
        {
            Reduce(meanGradient, optimizer: null, parameters: null);
            refused = optimizer.StepStaysFinite(parameters, meanGradient) ? null : UpdateRefusal.Describe(meanGradient, _network.Description);
            if (refused is null) optimizer.Step(parameters, meanGradient);
        }

        return (result.LossSum, result.Correct, refused);
    }

    private static int Blocks(int length) => (length + ReduceBlock - 1) / ReduceBlock;

    private (double LossSum, int Correct) Accumulate(Dataset data, int[] order, int start, int count)
    {
        _data = data;
        _order = order;
        _start = start;
        _count = count;
        _pool.Run(Chunks, _gradientJob);

        double loss = 0;
        var correct = 0;
        for (var c = 0; c < Chunks; c++)
        {
            loss += _chunkLoss[c];
            correct += _chunkCorrect[c];
        }

        return (loss, correct);
    }

    private void Reduce(float[] meanGradient, Optimizer? optimizer, float[]? parameters)
    {
        _target = meanGradient;
        _stepOptimizer = optimizer;
        _stepParameters = parameters;
        _pool.Run(Blocks(meanGradient.Length), _reduceJob);
        _stepOptimizer = null;
        _stepParameters = null;
    }

    /// <summary>Mean loss and accuracy over all of <paramref name="data"/>.</summary>
    public EvaluationResult Evaluate(Dataset data)
    {
        if (data.Count == 0) throw new ArgumentException("Cannot evaluate an empty dataset.", nameof(data));
        var chunks = (data.Count + EvaluationChunk - 1) / EvaluationChunk;
        _data = data;
        _evaluationLoss = new double[chunks];
        _evaluationCorrect = new int[chunks];
        _pool.Run(chunks, _evaluateJob);
        double loss = 0;
        var correct = 0;
        for (var c = 0; c < chunks; c++)
        {
            loss += _evaluationLoss[c];
            correct += _evaluationCorrect[c];
        }

        return new EvaluationResult(loss / data.Count, (double)correct / data.Count);
    }

    private void GradientChunk(int chunk, int worker)
    {
        // Chunk buffers are all zero here: new, or cleared by the reduction that consumed them.
        var gradient = _chunkGradients[chunk];
        var first = _count * chunk / Chunks;
        var end = _count * (chunk + 1) / Chunks;
        var workspace = _workspaces[worker];
        var output = _outputs[worker];
        double loss = 0;
        var correct = 0;
        for (var i = first; i < end; i++)
        {
            var sample = _order[_start + i];
            var label = _data.Label(sample);
            loss += _network.ForwardBackward(_data.Features(sample), label, workspace, output, gradient);
            if (ArgMax(output) == label) correct++;
        }

        _chunkLoss[chunk] = loss;
        _chunkCorrect[chunk] = correct;
    }

    private void ReduceBlockJob(int block, int worker)
    {
        var from = block * ReduceBlock;
        var length = Math.Min(ReduceBlock, _target.Length - from);
        var target = _target.AsSpan(from, length);
        var first = _chunkGradients[0].AsSpan(from, length);
        first.CopyTo(target);
        first.Clear();
        for (var c = 1; c < Chunks; c++)
        {
            if (_count * (c + 1) / Chunks == _count * c / Chunks) continue; // empty chunk (batch smaller than Chunks)
            var chunk = _chunkGradients[c].AsSpan(from, length);
            CpuKernels.Add(chunk, target);
            chunk.Clear(); // while it is in cache: the next batch starts from zero
        }

        var scale = 1f / _count;
        foreach (ref var g in target) g *= scale;

        // The optimizer's update of this block run dry, on this thread while the block's gradient is still in cache.
        if (_stepOptimizer is { } optimizer && !optimizer.RangeStaysFinite(_stepParameters.AsSpan(from, length), target, from))
        {
            _updateNotFinite = true;
        }
    }

    private void ApplyBlockJob(int block, int worker)
    {
        var from = block * ReduceBlock;
        var length = Math.Min(ReduceBlock, _target.Length - from);
        _stepOptimizer!.StepRange(_stepParameters.AsSpan(from, length), _target.AsSpan(from, length), from);
    }

    private void EvaluateChunk(int chunk, int worker)
    {
        var first = chunk * EvaluationChunk;
        var end = Math.Min(first + EvaluationChunk, _data.Count);
        var workspace = _workspaces[worker];
        var output = _outputs[worker];
        double loss = 0;
        var correct = 0;
        for (var i = first; i < end; i++)
        {
            var label = _data.Label(i);
            loss += _network.ForwardLoss(_data.Features(i), label, workspace, output);
            if (ArgMax(output) == label) correct++;
        }

        _evaluationLoss[chunk] = loss;
        _evaluationCorrect[chunk] = correct;
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }

        return best;
    }

    public void Dispose() => _pool.Dispose();
}

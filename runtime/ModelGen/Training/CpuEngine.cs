using ModelGen.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// Runs a generated network's passes on the CPU: training steps for <see cref="Trainer"/>, evaluation, gradients and
/// batch prediction. It owns the threads and one workspace; every pass runs a whole batch (or, for inference, up to
/// <see cref="NetworkDescription.MicroBatch"/> samples) through the layers, each layer's kernels splitting their work
/// over the threads in a way that does not change any result.
/// </summary>
/// <remarks>Allocation-free in the steady state: buffers grow to the largest pass seen, then stay.</remarks>
internal sealed class CpuEngine : ITrainingEngine
{
    /// <summary>Parameters per item of the parallel optimizer update.</summary>
    private const int UpdateBlock = 4096;

    private readonly INetwork _model;
    private readonly IGeneratedNetwork _network;
    private readonly NetworkDescription _description;
    private readonly WorkerPool? _pool;
    private readonly float[] _gradient;
    private float[] _workspace = [];
    private int[] _labels = [];
    private int _capacity;

    // The fit in progress.
    private Dataset? _train;
    private Optimizer? _optimizer;
    private int[] _order = [];
    private EpochTotals _totals;
    private int _seed;
    private int _epoch;

    private readonly bool _ownsPool;

    /// <summary>An engine with its own <paramref name="threads"/> threads.</summary>
    public CpuEngine(INetwork network, int threads)
        : this(network, threads > 1 ? new WorkerPool(threads) : null, ownsPool: true)
    {
    }

    /// <summary>An engine on a pool it does not own (or on the calling thread alone when <paramref name="pool"/> is null).</summary>
    public CpuEngine(INetwork network, WorkerPool? pool, bool ownsPool = false)
    {
        _model = network;
        _network = GeneratedModel.Passes(network);
        _description = network.Description;
        _pool = pool;
        _ownsPool = ownsPool;
        _gradient = new float[_description.TrainableParameterCount];
    }

    public bool ReadsBackCheaply => true;

    // ------------------------------------------------------------------------------------------------ buffers of a pass

    /// <summary>Lays the workspace out for passes of up to <paramref name="capacity"/> samples.</summary>
    private void EnsureCapacity(int capacity)
    {
        if (capacity <= _capacity) return;
        var length = _network.WorkspaceLength(capacity);
        if (length > Array.MaxLength)
        {
            throw new ModelInputException(
                $"A pass of {capacity:N0} samples of {_description.Name} needs {length:N0} floats of workspace, more than one array holds; use a smaller batch size.");
        }

        _workspace = new float[length];
        _labels = new int[capacity];
        _capacity = capacity;
    }

    private BatchPass Pass(int count, bool training, ulong dropoutKey = 0) => new(count, _capacity, training, _pool, dropoutKey);

    private Span<float> Input(int count) =>
        WorkspaceLayout.Input(_workspace, _capacity, _description.InputLength, _description.OutputLength).Slice(0, count * _description.InputLength);

    private Span<float> Logits(int count) =>
        WorkspaceLayout.Logits(_workspace, _capacity, _description.InputLength, _description.OutputLength).Slice(0, count * _description.OutputLength);

    private Span<float> LogitsGradient(int count) =>
        WorkspaceLayout.LogitsGradient(_workspace, _capacity, _description.InputLength, _description.OutputLength).Slice(0, count * _description.OutputLength);

    /// <summary>
    /// Copies samples order[start..start + count) of <paramref name="data"/> (or start.. in order) into the pass's inputs,
    /// on the threads: each copies the samples its share of the first layer will read, so they arrive in its caches.
    /// </summary>
    private unsafe void Gather(Dataset data, int[]? order, int start, int count)
    {
        var length = _description.InputLength;
        fixed (float* input = Input(count))
        {
            var job = new GatherJob { Data = data, Order = order, Start = start, Input = input, Labels = _labels, Length = length };
            Run(count, ref job);
        }
    }

    /// <summary>Items: one sample copied into the inputs, its label into the labels.</summary>
    private unsafe struct GatherJob : IParallelJob
    {
        public Dataset Data;
        public int[]? Order;
        public int Start, Length;
        public float* Input;
        public int[] Labels;

        public readonly void Execute(int item)
        {
            var sample = Order is null ? Start + item : Order[Start + item];
            Data.Features(sample).CopyTo(new Span<float>(Input + (long)item * Length, Length));
            Labels[item] = Data.Label(sample);
        }
    }

    /// <summary>
    /// Forward in training mode (the whole batch in one pass, so BatchNormalization normalises with the batch's statistics;
    /// Dropout masks from the pass's key), the loss and d(mean loss)/d(logits), and backward: the batch's
    /// mean gradient.
    /// </summary>
    private Losses.BatchLoss ForwardBackward(in BatchPass pass, ReadOnlySpan<float> parameters)
    {
        var count = pass.Count;
        _network.Forward(pass, parameters, _workspace);
        var loss = Losses.SoftmaxCrossEntropy(Logits(count), _labels.AsSpan(0, count), _description.OutputLength, default, LogitsGradient(count), 1f / count, default);
        if (double.IsFinite(loss.Sum) && _gradient.Length > 0) _network.Backward(pass, parameters, _workspace, _gradient);
        return loss;
    }

    // ------------------------------------------------------------------------------------------------ training

    public void BeginFit(Dataset train, int batchSize, Optimizer optimizer, int seed)
    {
        EnsureCapacity(Math.Min(batchSize, train.Count));
        _train = train;
        _optimizer = optimizer;
        _seed = seed;
    }

    public void BeginEpoch(int[] order, int epoch)
    {
        _order = order;
        _epoch = epoch;
        _totals = default;
    }

    public void Step(int step, int start, int count)
    {
        if (_totals.Failure is not null) return;
        var parameters = _model.Parameters;
        Gather(_train!, _order, start, count);
        var pass = Pass(count, training: true, Dropout.PassKey(_seed, _epoch, step));
        var loss = ForwardBackward(pass, parameters);
        if (!double.IsFinite(loss.Sum))
        {
            _totals = _totals with { Failure = new StepFailure(step, loss.Sum / count, null) };
            return;
        }

        var refused = Update(_optimizer!, parameters);
        if (refused is not null)
        {
            _totals = _totals with { Failure = new StepFailure(step, loss.Sum / count, refused) };
            return;
        }

        // Only an applied step moves the moving statistics: a failed one keeps all state from before it. (The update
        // cannot overflow: a training pass whose statistics would make it so outputs NaN and fails above.)
        _network.UpdateStatistics(pass, parameters, _workspace);

        _totals = new EpochTotals(_totals.Samples + count, _totals.LossSum + loss.Sum, _totals.Correct + loss.Correct, null);
    }

    public EpochTotals ReadTotals() => _totals;

    public void EndFit()
    {
        _train = null;
        _optimizer = null;
        _order = [];
    }

    /// <summary>
    /// Applies the optimizer's update of the mean gradient, unless it would make a weight or an optimizer value non-finite:
    /// then nothing changes and the reason is returned. With an optimizer that updates in ranges, one parallel pass runs
    /// the update dry (the very arithmetic, nothing stored) and a second applies it.
    /// </summary>
    /// <param name="optimizer">The fit's optimizer.</param>
    /// <param name="parameters">The network's parameters: the first <c>_gradient.Length</c> are the trainable ones it updates.</param>
    private string? Update(Optimizer optimizer, float[] parameters)
    {
        var trainable = _gradient.Length;
        if (!optimizer.SupportsRanges)
        {
            if (!optimizer.StepStaysFinite(parameters.AsSpan(0, trainable), _gradient)) return UpdateRefusal.Describe(_gradient, _description);
            optimizer.Step(parameters.AsSpan(0, trainable), _gradient);
            return null;
        }

        if (optimizer.BeginStep(trainable) is { } problem)
        {
            optimizer.AbortStep();
            return problem;
        }

        var job = new UpdateJob { Optimizer = optimizer, Parameters = parameters, Gradient = _gradient, DryRun = true };
        var items = (trainable + UpdateBlock - 1) / UpdateBlock;
        Run(items, ref job);
        if (job.NotFinite)
        {
            optimizer.AbortStep();
            return UpdateRefusal.Describe(_gradient, _description);
        }

        job.DryRun = false;
        Run(items, ref job);
        optimizer.EndStep();
        return null;
    }

    private void Run<TJob>(int items, ref TJob job) where TJob : struct, IParallelJob
    {
        if (_pool is null)
        {
            for (var i = 0; i < items; i++) job.Execute(i);
        }
        else
        {
            _pool.Run(items, ref job);
        }
    }

    /// <summary>Items: 4,096 parameters of the optimizer's update, run dry (any non-finite result sets the flag) or applied.</summary>
    private struct UpdateJob : IParallelJob
    {
        public Optimizer Optimizer;
        public float[] Parameters;
        public float[] Gradient;
        public bool DryRun;
        public volatile bool NotFinite;

        public void Execute(int item)
        {
            // The gradient is as long as the trainable parameters, the first ones of the buffer.
            var start = item * UpdateBlock;
            var length = Math.Min(UpdateBlock, Gradient.Length - start);
            var parameters = Parameters.AsSpan(start, length);
            var gradient = Gradient.AsSpan(start, length);
            if (!DryRun) Optimizer.StepRange(parameters, gradient, start);
            else if (!Optimizer.RangeStaysFinite(parameters, gradient, start)) NotFinite = true;
        }
    }

    // ------------------------------------------------------------------------------------------------ inference

    /// <summary>Mean loss and accuracy over all of <paramref name="data"/>, in passes of the network's micro-batch.</summary>
    public EvaluationResult Evaluate(Dataset data)
    {
        if (data.Count == 0) throw new ArgumentException("Cannot evaluate an empty dataset.", nameof(data));
        var chunk = Math.Max(_capacity, Math.Min(data.Count, _description.MicroBatch));
        EnsureCapacity(chunk);
        double loss = 0;
        long correct = 0;
        for (var first = 0; first < data.Count; first += chunk)
        {
            var count = Math.Min(chunk, data.Count - first);
            Gather(data, null, first, count);
            _network.Forward(Pass(count, training: false), _model.Parameters, _workspace);
            var result = Losses.SoftmaxCrossEntropy(Logits(count), _labels.AsSpan(0, count), _description.OutputLength, default, default, 0f, default);
            loss += result.Sum;
            correct += result.Correct;
        }

        return new EvaluationResult(loss / data.Count, (double)correct / data.Count);
    }

    /// <summary>The dropout masks of <see cref="Gradient"/>: those of step 0 of epoch 0 with seed 0, so that repeated calls agree.</summary>
    internal static readonly ulong ComputeGradientsDropoutKey = Dropout.PassKey(0, 0, 0);

    /// <summary>
    /// The mean loss and mean gradient of one batch in training mode (batch statistics, dropout masks of
    /// <see cref="ComputeGradientsDropoutKey"/>), without an optimizer step: nothing of the network changes, the moving
    /// statistics included.
    /// </summary>
    public float Gradient(Dataset batch, Span<float> gradient)
    {
        EnsureCapacity(batch.Count);
        Gather(batch, null, 0, batch.Count);
        var loss = ForwardBackward(Pass(batch.Count, training: true, ComputeGradientsDropoutKey), _model.Parameters);
        _gradient.CopyTo(gradient);
        return (float)(loss.Sum / batch.Count);
    }

    /// <summary>The network's outputs (probabilities after a softmax layer) for samples laid one after the other.</summary>
    public void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        var total = inputs.Length / _description.InputLength;
        var chunk = Math.Max(_capacity, Math.Min(total, _description.MicroBatch));
        EnsureCapacity(chunk);
        int inputLength = _description.InputLength, outputLength = _description.OutputLength;
        for (var first = 0; first < total; first += chunk)
        {
            var count = Math.Min(chunk, total - first);
            inputs.Slice(first * inputLength, count * inputLength).CopyTo(Input(count));
            _network.Forward(Pass(count, training: false), _model.Parameters, _workspace);
            Inference.ToOutputs(_description, Logits(count), outputs.Slice(first * outputLength, count * outputLength));
        }
    }

    public void Dispose()
    {
        if (_ownsPool) _pool?.Dispose();
    }
}

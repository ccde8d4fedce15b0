using ModelGen.Runtime.Tests.Reliability;

namespace ModelGen.Runtime.Tests.Training.Callbacks;

/// <summary>
/// A training engine that plays back hand-built loss sequences instead of computing them, for testing callbacks against
/// known numbers. Like a GPU session it trains its own copy of the weights ("the device") and copies them to the
/// network only when the trainer asks (SyncToHost, EndFit): a callback that read the host's weights without asking would
/// see stale ones. Every step sets the device weights to <see cref="WeightsAfter"/>(epoch, step), so the weights at the
/// end of any epoch are known exactly.
/// </summary>
internal sealed class ScriptedEngine(INetwork network, double[] trainLoss, double[]? valLoss = null, double[]? valAccuracy = null) : ITrainingEngine
{
    private float[] _device = [];
    private Optimizer? _optimizer;
    private int _epoch;
    private EpochTotals _totals;

    /// <summary>The learning rate the optimizer had at each step, in order.</summary>
    public List<double> StepLearningRates { get; } = [];

    /// <summary>(epoch, step) of every step run.</summary>
    public List<(int Epoch, int Step)> Steps { get; } = [];

    public bool FitEnded { get; private set; }

    public bool ReadsBackCheaply => true;

    /// <summary>The weights after step <paramref name="step"/> of <paramref name="epoch"/>: distinct, finite, and not all round.</summary>
    public static float[] WeightsAfter(int epoch, int step, int count) =>
        [.. Enumerable.Range(0, count).Select(i => epoch + step / 64f + i / 4096f + 1f / 3f)];


    public void BeginFit(Dataset train, int batchSize, Optimizer optimizer, int seed, ImageAugmenter? augmenter)
    {
        _device = (float[])network.Parameters.Clone();
        _optimizer = optimizer;
        FitEnded = false;
    }

    public void BeginEpoch(int epoch, int[] order)
    {
        _epoch = epoch;
        _totals = default;
    }

    public void Step(int step, int start, int count)
    {
        Steps.Add((_epoch, step));
        StepLearningRates.Add(_optimizer!.LearningRate);
        WeightsAfter(_epoch, step, _device.Length).CopyTo(_device, 0);
        var loss = trainLoss[_epoch - 1];
        // (epoch % 4) of the step's samples are "correct": each epoch's training accuracy (in batches of 4) is (epoch % 4) / 4.
        _totals = new EpochTotals(_totals.Samples + count, _totals.LossSum + loss * count, _totals.Correct + Math.Min(_epoch % 4, count), null);
    }

    public EpochTotals ReadTotals() => _totals;

    public EvaluationResult Evaluate(Dataset data) =>
        new(valLoss![_epoch - 1], valAccuracy is null ? 0.5 : valAccuracy[_epoch - 1]);

    public void SyncToHost() => _device.CopyTo(network.Parameters, 0);

    public void ReloadParameters() => network.Parameters.CopyTo(_device, 0);

    public void EndFit()
    {
        _device.CopyTo(network.Parameters, 0);
        FitEnded = true;
    }

    public void Dispose()
    {
    }

    /// <summary>Runs Trainer's loop on a fresh fake network with this script: 8 samples in batches of 4 (2 steps per epoch).</summary>
    public static (FakeNetwork Network, ScriptedEngine Engine, TrainingHistory History) Fit(
        double[] trainLoss, double[]? valLoss, int epochs, params Callback[] callbacks) =>
        Fit(new FakeNetwork(), trainLoss, valLoss, null, epochs, callbacks);

    public static (FakeNetwork Network, ScriptedEngine Engine, TrainingHistory History) Fit(
        FakeNetwork network, double[] trainLoss, double[]? valLoss, double[]? valAccuracy, int epochs, params Callback[] callbacks)
    {
        var engine = new ScriptedEngine(network, trainLoss, valLoss, valAccuracy);
        var data = FakeNetwork.Data();
        var history = Trainer.Run(network, engine, data, new FitOptions
        {
            Epochs = epochs,
            BatchSize = 4,
            Seed = 1,
            Validation = valLoss is null ? null : data,
            Progress = new ProgressReporter(TextWriter.Null, live: false),
            Callbacks = callbacks,
        });
        return (network, engine, history);
    }

    /// <summary>The bits of <paramref name="values"/>, for comparisons that tell -0 from 0 and every NaN apart.</summary>
    public static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}

using System.Globalization;
using ModelGen.Runtime.Tests.Reliability;
using static ModelGen.Runtime.Tests.Training.Callbacks.ScriptedEngine;

namespace ModelGen.Runtime.Tests.Training.Callbacks;

/// <summary>ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CsvLogger and the Callback base, against hand-built sequences.</summary>
public sealed class CallbackTests : IDisposable
{
    private static readonly double[] Flat = [.. Enumerable.Repeat(0.5, 60)];
    private readonly string _folder = Directory.CreateTempSubdirectory("modelgen-callbacks-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static double[] Padded(params double[] values) => [.. values, .. Enumerable.Repeat(9.0, 60 - values.Length)];

    // ------------------------------------------------------------------------------------------------ ModelCheckpoint

    [Fact]
    public void ModelCheckpoint_SaveBestOnly_WritesExactlyTheImprovingEpochs_EachAConsistentModelFile()
    {
        var path = Path.Combine(_folder, "ckpt-{epoch:02d}-{val_loss:.3f}.mgm");
        var checkpoint = new ModelCheckpoint(path, saveBestOnly: true);
        var (network, _, _) = Fit(Flat, Padded(1.0, 0.8, 0.9, 0.7), epochs: 4, checkpoint);

        Assert.Equal(
            ["ckpt-01-1.000.mgm", "ckpt-02-0.800.mgm", "ckpt-04-0.700.mgm"],
            Directory.GetFiles(_folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
        foreach (var (epoch, file) in new[] { (1, "ckpt-01-1.000.mgm"), (2, "ckpt-02-0.800.mgm"), (4, "ckpt-04-0.700.mgm") })
        {
            // The weights of that epoch's end, copied from the engine's own copy, and the history up to that epoch.
            var loaded = new FakeNetwork();
            ModelStore.LoadInto(loaded, Path.Combine(_folder, file));
            Assert.Equal(Bits(WeightsAfter(epoch, 2, network.Parameters.Length)), Bits(loaded.Parameters));
            Assert.Equal(epoch, loaded.History!.Epochs);
        }

        Assert.Equal(0.7, checkpoint.Best);
        Assert.EndsWith("ckpt-04-0.700.mgm", checkpoint.LastSavedPath);
    }

    [Fact]
    public void ModelCheckpoint_OneFile_HoldsTheBestEpoch_AndKeepsItsBestAcrossFits()
    {
        var path = Path.Combine(_folder, "best.mgm");
        var checkpoint = new ModelCheckpoint(path, saveBestOnly: true);
        var network = new FakeNetwork();
        double[] valLoss = Padded(1.0, 0.6, 0.9, 0.7, 0.65);
        Fit(network, Flat, valLoss, null, epochs: 3, checkpoint);
        Fit(network, Flat, valLoss, null, epochs: 2, checkpoint); // epochs 4, 5: neither beats 0.6

        var loaded = new FakeNetwork();
        ModelStore.LoadInto(loaded, path);
        Assert.Equal(Bits(WeightsAfter(2, 2, loaded.Parameters.Length)), Bits(loaded.Parameters));
        Assert.Equal(2, loaded.History!.Epochs);
        Assert.Equal(["best.mgm"], Directory.GetFiles(_folder).Select(f => Path.GetFileName(f)!).ToArray()); // no temporary file left
    }

    [Fact]
    public void ModelCheckpoint_EveryEpoch_AndInitialValueThreshold()
    {
        var every = new ModelCheckpoint(Path.Combine(_folder, "e{epoch}.mgm"));
        Fit(Flat, Padded(1.0, 2.0, 3.0), epochs: 3, every);
        Assert.Equal(3, Directory.GetFiles(_folder, "e*.mgm").Length);

        var threshold = new ModelCheckpoint(Path.Combine(_folder, "t{epoch}.mgm"), saveBestOnly: true, initialValueThreshold: 0.85);
        Fit(Flat, Padded(1.0, 0.9, 0.8, 0.82, 0.7), epochs: 5, threshold);
        Assert.Equal(["t3.mgm", "t5.mgm"], Directory.GetFiles(_folder, "t*.mgm").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void ModelCheckpoint_PathWithAnUnknownPlaceholder_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelCheckpoint(Path.Combine(_folder, "m-{val_acc}.mgm")));
        Assert.Contains("{val_acc}", error.Message);
    }

    [Fact]
    public void ModelCheckpoint_Verbose_PrintsKerasMessages()
    {
        var output = new StringWriter();
        var network = new FakeNetwork();
        var engine = new ScriptedEngine(network, Flat, Padded(1.0, 1.5));
        var data = FakeNetwork.Data();
        var path = Path.Combine(_folder, "best.mgm");
        Trainer.Run(network, engine, data, new FitOptions
        {
            Epochs = 2,
            BatchSize = 4,
            Validation = data,
            Progress = new ProgressReporter(output, live: false),
            Callbacks = [new ModelCheckpoint(path, saveBestOnly: true, verbose: true)],
        });
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"Epoch 1: val_loss improved from None to 1.00000, saving model to {path}", lines);
        Assert.Contains("Epoch 2: val_loss did not improve from 1.00000", lines);
    }

    // ------------------------------------------------------------------------------------------------ ReduceLROnPlateau

    [Fact]
    public void ReduceLROnPlateau_ReducesAfterPatience_WaitsOutTheCooldown_AndStopsAtTheMinimum()
    {
        // Nothing improves after epoch 1. Patience 2, cooldown 1, factor 0.5, from 0.001 down to at least 0.0003:
        // epochs 2-3 wait and epoch 3 reduces to 0.0005 (used from epoch 4); epoch 4 ends the cooldown and counts (Keras
        // decrements the cooldown first), epoch 5 reduces to 0.0003 (0.00025 raised to the minimum); from then on the
        // rate is at its minimum and stays.
        var reduce = new ReduceLROnPlateau(factor: 0.5, patience: 2, cooldown: 1, minLearningRate: 0.0003);
        var (network, engine, history) = Fit(Flat, Flat, epochs: 10, reduce);

        double[] expected = [0.001, 0.001, 0.001, 0.0005, 0.0005, 0.0003, 0.0003, 0.0003, 0.0003, 0.0003];
        Assert.Equal(expected, history.LearningRate);
        // What the optimizer used, step by step (two steps an epoch): the very rates logged.
        Assert.Equal(expected.SelectMany(lr => new[] { lr, lr }), engine.StepLearningRates);
        Assert.Equal(0.0003, network.Optimizer!.LearningRate);
    }

    [Fact]
    public void ReduceLROnPlateau_ImprovementsLargerThanMinDelta_ResetTheWait()
    {
        var (_, _, history) = Fit(Flat, Padded(1.0, 0.9, 0.8, 0.79995, 0.79992, 0.7), epochs: 6, new ReduceLROnPlateau(factor: 0.1, patience: 2));
        // Epochs 4 and 5 improve by less than 1e-4: the second of them reduces the rate.
        Assert.Equal([0.001, 0.001, 0.001, 0.001, 0.001, 0.0001], history.LearningRate, new ToleranceComparer(1e-15));
    }

    [Fact]
    public void ReduceLROnPlateau_FactorOfOneOrMore_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: 1.0));

    // ------------------------------------------------------------------------------------------------ LearningRateScheduler

    [Fact]
    public void LearningRateScheduler_GetsTheZeroBasedEpochAndTheCurrentRate()
    {
        var seen = new List<(int Epoch, double Rate)>();
        var scheduler = new LearningRateScheduler((epoch, rate) =>
        {
            seen.Add((epoch, rate));
            return epoch < 2 ? rate : rate * 0.5;
        });
        var (_, engine, history) = Fit(Flat, null, epochs: 4, scheduler);

        Assert.Equal([(0, 0.001), (1, 0.001), (2, 0.001), (3, 0.0005)], seen);
        Assert.Equal([0.001, 0.001, 0.0005, 0.00025], history.LearningRate);
        Assert.Equal([0.001, 0.001, 0.001, 0.001, 0.0005, 0.0005, 0.00025, 0.00025], engine.StepLearningRates);
    }

    [Fact]
    public void CosineAndStepSchedules_FollowTheirFormulas()
    {
        var cosine = LearningRateSchedules.Cosine(0.01, decayEpochs: 4, alpha: 0.1);
        for (var e = 0; e <= 6; e++)
        {
            var expected = 0.01 * (0.9 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(e, 4) / 4.0)) + 0.1);
            Assert.Equal(expected, cosine(e, 123), 15);
        }

        Assert.Equal(0.01, cosine(0, 0), 15);
        Assert.Equal(0.001, cosine(4, 0), 15);

        var step = LearningRateSchedules.Step(0.01, stepEpochs: 2, factor: 0.5);
        Assert.Equal([0.01, 0.01, 0.005, 0.005, 0.0025], Enumerable.Range(0, 5).Select(e => step(e, 0)));
    }

    [Fact]
    public void LearningRateScheduler_ResumedRun_ContinuesTheSchedule()
    {
        var schedule = LearningRateSchedules.Cosine(0.001, decayEpochs: 4);
        var (_, _, straight) = Fit(Flat, null, epochs: 4, new LearningRateScheduler(schedule));

        var network = new FakeNetwork();
        Fit(network, Flat, null, null, epochs: 2, new LearningRateScheduler(schedule));
        var path = Path.Combine(_folder, "resume.mgm");
        ModelStore.Save(network, path);
        var resumed = new FakeNetwork();
        ModelStore.LoadInto(resumed, path);
        var (_, _, history) = Fit(resumed, Flat, null, null, epochs: 2, new LearningRateScheduler(schedule));

        Assert.Equal(straight.LearningRate, history.LearningRate);
    }

    [Fact]
    public void LearningRateScheduler_ScheduleReturningNaN_StopsWithAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => Fit(Flat, null, epochs: 3, new LearningRateScheduler((e, lr) => e == 1 ? double.NaN : lr)));
        Assert.Contains("returned NaN for epoch index 1", error.Message);
    }

    [Fact]
    public void LearningRateScheduler_Verbose_PrintsTheRateAsPythonWritesIt()
    {
        var output = new StringWriter();
        var network = new FakeNetwork();
        Trainer.Run(network, new ScriptedEngine(network, Flat), FakeNetwork.Data(), new FitOptions
        {
            Epochs = 2,
            BatchSize = 4,
            Progress = new ProgressReporter(output, live: false),
            Callbacks = [new LearningRateScheduler((e, lr) => e == 0 ? 1e-5 : 0.5, verbose: true)],
        });
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Epoch 1: LearningRateScheduler setting learning rate to 1e-05.", lines[0]);
        Assert.Equal("Epoch 1/2", lines[1]);
        Assert.Contains("Epoch 2: LearningRateScheduler setting learning rate to 0.5.", lines);
    }

    // ------------------------------------------------------------------------------------------------ CsvLogger

    [Fact]
    public void CsvLogger_WritesKerasColumnsAndValues()
    {
        var path = Path.Combine(_folder, "log.csv");
        Fit(new FakeNetwork(), Padded(0.5, 0.25, 0.125), Padded(0.75, 0.375, 0.1), Padded(0.25, 0.5, 0.75), epochs: 3, new CsvLogger(path));

        // Accuracy (epoch % 4) / 4 (the script's rule); learning rate Adam's 0.001; Python's csv line ends.
        Assert.Equal(
            "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\r\n" +
            "0,0.25,0.001,0.5,0.25,0.75\r\n" +
            "1,0.5,0.001,0.25,0.5,0.375\r\n" +
            "2,0.75,0.001,0.125,0.75,0.1\r\n",
            File.ReadAllText(path));
    }

    [Fact]
    public void CsvLogger_WithoutValidation_WritesNA_AndAppendsOnResume()
    {
        var path = Path.Combine(_folder, "log.csv");
        var network = new FakeNetwork();
        Fit(network, Flat, null, null, epochs: 1, new CsvLogger(path));
        Fit(network, Flat, null, null, epochs: 1, new CsvLogger(path, append: true));

        Assert.Equal(
            "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\r\n" +
            "0,0.25,0.001,0.5,NA,NA\r\n" +
            "1,0.5,0.001,0.5,NA,NA\r\n",
            File.ReadAllText(path));
    }

    [Fact]
    public void CsvLogger_AppendToAFileWithOtherColumns_IsRefusedBeforeTraining()
    {
        var path = Path.Combine(_folder, "other.csv");
        File.WriteAllText(path, "epoch,loss\r\n0,1.0\r\n");
        var error = Assert.Throws<ArgumentException>(() => Fit(Flat, null, epochs: 1, new CsvLogger(path, append: true)));
        Assert.Contains("its header is 'epoch,loss'", error.Message);
        Assert.Equal("epoch,loss\r\n0,1.0\r\n", File.ReadAllText(path));
    }

    [Theory]
    [InlineData(0.001, "0.001")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.00012, "0.00012")]
    [InlineData(2.0, "2.0")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    [InlineData(double.NaN, "nan")]
    [InlineData(1.5e-7, "1.5e-07")]
    public void PythonRepr_MatchesPython(double value, string python) => Assert.Equal(python, PythonText.Repr(value));

    // ------------------------------------------------------------------------------------------------ Callback base, stop, weights

    private sealed class Recorder : Callback
    {
        public List<string> Calls { get; } = [];

        public int StopAtBatch { get; init; }

        public override void OnTrainBegin() => Calls.Add($"train {Run.InitialEpoch}..{Run.FinalEpoch}");

        public override void OnEpochBegin(int epoch) => Calls.Add($"epoch {epoch}");

        public override void OnBatchBegin(int step) => Calls.Add($"batch {step}");

        public override void OnBatchEnd(int step, double loss, double accuracy)
        {
            Calls.Add(string.Create(CultureInfo.InvariantCulture, $"batch {step} done {loss}"));
            if (step == StopAtBatch) Run.StopTraining("enough");
        }

        public override void OnEpochEnd(EpochSummary summary) => Calls.Add($"epoch {summary.Epoch} done ({Run.History.Epochs} in history)");

        public override void OnTrainEnd() => Calls.Add("train done");
    }

    [Fact]
    public void UserCallback_SeesEveryHookInOrder()
    {
        var recorder = new Recorder();
        Fit(Flat, null, epochs: 2, recorder);
        Assert.Equal(
            [
                "train 0..2",
                "epoch 1", "batch 1", "batch 1 done 0.5", "batch 2", "batch 2 done 0.5", "epoch 1 done (1 in history)",
                "epoch 2", "batch 1", "batch 1 done 0.5", "batch 2", "batch 2 done 0.5", "epoch 2 done (2 in history)",
                "train done",
            ],
            recorder.Calls);
    }

    [Fact]
    public void StopTraining_FromABatch_EndsTheEpochThere_AndRecordsIt()
    {
        var recorder = new Recorder { StopAtBatch = 1 };
        var (_, engine, history) = Fit(Flat, Padded(0.3), epochs: 5, recorder);

        Assert.Equal([(1, 1)], engine.Steps);
        Assert.Equal(1, history.Epochs);
        Assert.Equal(0.3, history.ValLoss[0]); // the cut epoch was still validated
        Assert.Equal(new TrainingStop(1, "enough"), Assert.Single(history.Stops));
        Assert.Equal("train done", recorder.Calls[^1]);
    }

    [Fact]
    public void Run_OutsideAFit_IsAnError()
    {
        var recorder = new Recorder();
        Fit(Flat, null, epochs: 1, recorder);
        Assert.Throws<InvalidOperationException>(() => recorder.OnTrainBegin());
    }

    [Fact]
    public void HistoryWithStops_RoundTripsThroughJsonAndModelFiles()
    {
        var (network, _, history) = Fit(Flat, Padded(1.0, 0.8, 0.9, 0.85), epochs: 50, new EarlyStopping(patience: 2, restoreBestWeights: true));
        var path = Path.Combine(_folder, "stopped.mgm");
        ModelStore.Save(network, path);
        var loaded = new FakeNetwork();
        ModelStore.LoadInto(loaded, path);

        Assert.Equal(history.Stops, loaded.History!.Stops);
        Assert.Equal(2, loaded.History.WeightsFromEpoch);
        Assert.Equal(history.LearningRate, loaded.History.LearningRate);
        Assert.Equal(history.ToJson(), loaded.History.ToJson());
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}

using ModelGen.Runtime.Tests.Reliability;
using static ModelGen.Runtime.Tests.Training.Callbacks.ScriptedEngine;

namespace ModelGen.Runtime.Tests.Training.Callbacks;

/// <summary>EarlyStopping against hand-built loss sequences, with the stop epochs worked out from Keras's rules by hand.</summary>
public class EarlyStoppingTests
{
    private static readonly double[] Flat = [.. Enumerable.Repeat(0.5, 60)];

    private static double[] Padded(params double[] values) => [.. values, .. Enumerable.Repeat(9.0, 60 - values.Length)];

    [Fact]
    public void Patience2_StopsTwoEpochsAfterTheBest_AndRestoresTheBestWeightsBitForBit()
    {
        // Best at epoch 2 (0.8); epochs 3 and 4 do not improve: wait reaches 2 at epoch 4, which stops.
        var early = new EarlyStopping(patience: 2, restoreBestWeights: true);
        var (network, engine, history) = Fit(Flat, Padded(1.0, 0.8, 0.9, 0.85, 0.1), epochs: 50, early);

        Assert.Equal(4, history.Epochs);
        Assert.Equal(4, early.StoppedEpoch);
        Assert.Equal(2, early.BestEpoch);
        Assert.Equal(0.8, early.Best);
        Assert.Equal(4, engine.Steps.Max(s => s.Epoch)); // no step of epoch 5 ran
        Assert.Equal(Bits(WeightsAfter(2, 2, network.Parameters.Length)), Bits(network.Parameters));
        Assert.Equal(2, history.WeightsFromEpoch);
        var stop = Assert.Single(history.Stops);
        Assert.Equal(4, stop.Epoch);
        Assert.Contains("EarlyStopping: val_loss did not improve for 2 epoch(s)", stop.Reason);
        Assert.Contains("at epoch 2", stop.Reason);
    }

    [Fact]
    public void WithoutRestoreBestWeights_KeepsTheLastEpochsWeights()
    {
        var (network, _, history) = Fit(Flat, Padded(1.0, 0.8, 0.9, 0.85), epochs: 50, new EarlyStopping(patience: 2));

        Assert.Equal(4, history.Epochs);
        Assert.Equal(Bits(WeightsAfter(4, 2, network.Parameters.Length)), Bits(network.Parameters));
        Assert.Null(history.WeightsFromEpoch);
    }

    [Fact]
    public void MinDelta_AnImprovementSmallerThanIt_DoesNotCount()
    {
        // 0.96 is 0.04 better than 1.0, less than min_delta 0.05: with patience 1 that stops at epoch 2.
        var early = new EarlyStopping(minDelta: 0.05, patience: 1);
        var (_, _, history) = Fit(Flat, Padded(1.0, 0.96, 0.5), epochs: 10, early);
        Assert.Equal(2, history.Epochs);

        // 0.94 is 0.06 better: it counts, and training goes on to the next non-improving epoch.
        var (_, _, again) = Fit(Flat, Padded(1.0, 0.94, 0.93), epochs: 10, new EarlyStopping(minDelta: 0.05, patience: 1));
        Assert.Equal(3, again.Epochs);
    }

    [Fact]
    public void AccuracyInAutoMode_IsMaximised()
    {
        var early = new EarlyStopping(monitor: "val_accuracy", patience: 1, restoreBestWeights: true);
        var network = new FakeNetwork();
        var (_, _, history) = Fit(network, Flat, Flat, Padded(0.5, 0.6, 0.6, 0.9), epochs: 10, early);

        // 0.6 does not beat 0.6: epoch 3 stops; the best is epoch 2.
        Assert.Equal(3, history.Epochs);
        Assert.Equal(2, early.BestEpoch);
        Assert.Equal(Bits(WeightsAfter(2, 2, network.Parameters.Length)), Bits(network.Parameters));
    }

    [Fact]
    public void Baseline_NoEpochBeatsIt_StopsAfterPatienceEpochs_AndRestoresTheBestOfThem()
    {
        // Keras: the patience restarts only for an epoch that beats both the best and the baseline (0.5). None does, so
        // wait counts 1, 2, 3 over epochs 1-3 and training stops at epoch 3, restoring epoch 2 (0.9, the best of them).
        var early = new EarlyStopping(patience: 3, baseline: 0.5, restoreBestWeights: true);
        var (network, _, history) = Fit(Flat, Padded(1.0, 0.9, 0.95, 0.1), epochs: 10, early);

        Assert.Equal(3, history.Epochs);
        Assert.Equal(2, early.BestEpoch);
        Assert.Equal(Bits(WeightsAfter(2, 2, network.Parameters.Length)), Bits(network.Parameters));
        Assert.Equal(2, history.WeightsFromEpoch);
    }

    [Fact]
    public void Baseline_BeatenByAnEpoch_RestartsThePatience()
    {
        var (_, _, history) = Fit(Flat, Padded(1.0, 0.4, 0.45, 0.46, 0.47), epochs: 10, new EarlyStopping(patience: 3, baseline: 0.5));
        // Epoch 2 beats the baseline: wait 0; epochs 3-5 do not improve: stop at 5.
        Assert.Equal(5, history.Epochs);
    }

    [Fact]
    public void RestoreBestWeights_TrainingRunsToTheEnd_StillRestoresTheBest()
    {
        // Keras 3 restores the best weights when training ends, stopped or not.
        var early = new EarlyStopping(patience: 5, restoreBestWeights: true);
        var (network, _, history) = Fit(Flat, Padded(1.0, 0.5, 0.7), epochs: 3, early);

        Assert.Equal(3, history.Epochs);
        Assert.Equal(0, early.StoppedEpoch);
        Assert.Empty(history.Stops);
        Assert.Equal(2, history.WeightsFromEpoch);
        Assert.Equal(Bits(WeightsAfter(2, 2, network.Parameters.Length)), Bits(network.Parameters));
    }

    [Fact]
    public void RestoreBestWeights_BestIsTheLastEpoch_LeavesItsWeightsAndNamesNoEarlierEpoch()
    {
        var (network, _, history) = Fit(Flat, Padded(1.0, 0.9, 0.8), epochs: 3, new EarlyStopping(patience: 1, restoreBestWeights: true));
        Assert.Null(history.WeightsFromEpoch);
        Assert.Equal(Bits(WeightsAfter(3, 2, network.Parameters.Length)), Bits(network.Parameters));
    }

    [Fact]
    public void StartFromEpoch_IgnoresTheWarmUpEpochs()
    {
        double[] rising = [.. Enumerable.Range(1, 60).Select(i => 0.1 * i)];
        var (_, _, plain) = Fit(Flat, rising, epochs: 20, new EarlyStopping(patience: 1));
        Assert.Equal(2, plain.Epochs);

        // Epochs 1-2 are warm-up; epoch 3 is the first monitored (best), epoch 4 does not improve: stop.
        var (_, _, warm) = Fit(Flat, rising, epochs: 20, new EarlyStopping(patience: 1, startFromEpoch: 2));
        Assert.Equal(4, warm.Epochs);
    }

    [Fact]
    public void PatienceZero_NeverStopsAtTheModelsFirstEpoch()
    {
        var (_, _, history) = Fit(Flat, Padded(1.0, 2.0), epochs: 10, new EarlyStopping(patience: 0));
        Assert.Equal(2, history.Epochs);
    }

    [Fact]
    public void ResumedFit_StartsAfresh_AndCountsEpochsOverAllTraining()
    {
        var network = new FakeNetwork();
        double[] valLoss = Padded(1.0, 0.9, 0.8, 0.85, 0.86);
        var early = new EarlyStopping(patience: 1, restoreBestWeights: true);
        Fit(network, Flat, valLoss, null, epochs: 2, early);
        var (_, _, history) = Fit(network, Flat, valLoss, null, epochs: 10, early);

        // Second fit: epoch 3 is its first (best of this fit), epoch 4 does not improve: stop at 4, restore 3.
        Assert.Equal(4, history.Epochs);
        Assert.Equal(4, Assert.Single(history.Stops).Epoch);
        Assert.Equal(3, early.BestEpoch);
        Assert.Equal(Bits(WeightsAfter(3, 2, network.Parameters.Length)), Bits(network.Parameters));
    }

    [Fact]
    public void ValidationMonitor_WithoutValidationData_IsRefusedBeforeAnyStep()
    {
        var network = new FakeNetwork();
        var engine = new ScriptedEngine(network, Flat);
        var error = Assert.Throws<ArgumentException>(() => Trainer.Run(network, engine, FakeNetwork.Data(), new FitOptions
        {
            Epochs = 3,
            Progress = new ProgressReporter(TextWriter.Null, live: false),
            Callbacks = [new EarlyStopping()],
        }));

        Assert.Contains("monitors 'val_loss', but this fit has no validation data", error.Message);
        Assert.Empty(engine.Steps);
        Assert.True(engine.FitEnded);
    }

    [Theory]
    [InlineData("val_acc")]
    [InlineData("precision")]
    public void UnknownMetric_IsRefused_NamingTheMetricsThereAre(string monitor)
    {
        var error = Assert.Throws<ArgumentException>(() => new EarlyStopping(monitor: monitor));
        Assert.Contains($"'{monitor}' is not a metric of Fit", error.Message);
        Assert.Contains("val_accuracy", error.Message);
    }

    [Fact]
    public void LearningRateMonitor_InAutoMode_AsksForAMode()
    {
        Assert.Throws<ArgumentException>(() => new EarlyStopping(monitor: "learning_rate"));
        _ = new EarlyStopping(monitor: "learning_rate", mode: MonitorMode.Min);
    }

    [Fact]
    public void Verbose_PrintsKerasMessages()
    {
        var output = new StringWriter();
        var network = new FakeNetwork();
        var engine = new ScriptedEngine(network, Flat, Padded(1.0, 0.8, 0.9, 0.85));
        var data = FakeNetwork.Data();
        Trainer.Run(network, engine, data, new FitOptions
        {
            Epochs = 50,
            BatchSize = 4,
            Validation = data,
            Progress = new ProgressReporter(output, live: false),
            Callbacks = [new EarlyStopping(patience: 2, restoreBestWeights: true, verbose: true)],
        });

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Epoch 4: early stopping", lines[^2]);
        Assert.Equal("Restoring model weights from the end of the best epoch: 2.", lines[^1]);
        Assert.StartsWith("2/2 [", lines[^3]);
    }
}

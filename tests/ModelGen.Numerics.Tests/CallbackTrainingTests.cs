using ModelGen.Numerics.Tests.Models;
using static ModelGen.Numerics.Tests.Reference.Numerics;

namespace ModelGen.Numerics.Tests;

/// <summary>Callbacks on real training (the CPU engine), checked against runs without them.</summary>
public class CallbackTrainingTests
{
    [Fact]
    public void EarlyStopping_RestoresExactlyTheWeightsOfAPlainRunThatEndedAtTheBestEpoch()
    {
        var c = Catalog.Get(nameof(SmallConvNet));
        var random = new Random(21);
        Dataset Data(int count)
        {
            var samples = Enumerable.Range(0, count).Select(_ => RandomSample(c.Reference, random)).ToArray();
            return new Dataset(samples.SelectMany(s => s.Input).ToArray(), samples.Select(s => s.Label).ToArray(), samples[0].Input.Length);
        }

        // Random labels: the training set is learned by heart and the validation loss soon rises.
        var train = Data(40);
        var validation = Data(40);
        FitOptions Options(int epochs, params Callback[] callbacks) => new()
        {
            Epochs = epochs, BatchSize = 8, Seed = 4, Threads = 2, Validation = validation, Callbacks = callbacks,
            Optimizer = new Adam(0.01), Progress = new ProgressReporter(TextWriter.Null, live: false),
        };

        var stopped = c.Create(3);
        var early = new EarlyStopping(patience: 2, restoreBestWeights: true);
        var history = Trainer.Fit(stopped, train, Options(50, early));

        Assert.True(history.Epochs < 50, $"ran all {history.Epochs} epochs");
        var best = history.ValLoss.IndexOf(history.ValLoss.Min()) + 1;
        Assert.Equal(best, early.BestEpoch);
        Assert.Equal(best + 2, history.Epochs); // two epochs without improvement after the best, then the stop

        var plain = c.Create(3);
        Trainer.Fit(plain, train, Options(best));
        Assert.Equal(plain.Parameters.Select(BitConverter.SingleToInt32Bits), stopped.Parameters.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(history.ValLoss[best - 1], Trainer.Evaluate(stopped, validation, threads: 1).Loss, 12);
    }
}

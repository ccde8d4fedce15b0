using ModelGen.Numerics.Tests.Models;

namespace ModelGen.Numerics.Tests;

/// <summary>Generated Save/Load: what comes back is bit-identical and predicts identically; other networks are refused.</summary>
public sealed class ModelFileRoundTripTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("modelgen-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Dataset RandomData(int count, int seed)
    {
        var random = new Random(seed);
        var features = new float[count * LeNet5.InputLength];
        for (var i = 0; i < features.Length; i++) features[i] = (float)random.NextDouble();
        var labels = Enumerable.Range(0, count).Select(_ => random.Next(10)).ToArray();
        return new Dataset(features, labels, LeNet5.InputLength);
    }

    [Fact]
    public void SaveThenLoad_GivesBitIdenticalParametersOptimizerHistoryAndPredictions()
    {
        var data = RandomData(40, 1);
        var model = new LeNet5(seed: 3);
        model.Fit(data, epochs: 2, batchSize: 16, seed: 5, progress: new ProgressReporter(TextWriter.Null, live: false));
        var path = Path.Combine(_folder, "model.mgm");

        model.Save(path);
        var loaded = LeNet5.Load(path);

        Assert.Equal(
            model.Parameters.Select(BitConverter.SingleToInt32Bits),
            loaded.Parameters.Select(BitConverter.SingleToInt32Bits));
        var before = model.Optimizer!.GetState();
        var after = loaded.Optimizer!.GetState();
        Assert.Equal(before.Kind, after.Kind);
        Assert.Equal(before.Iterations, after.Iterations);
        Assert.Equal(before.Slots.Length, after.Slots.Length);
        for (var s = 0; s < before.Slots.Length; s++) Assert.Equal(before.Slots[s], after.Slots[s]);
        Assert.Equal(model.History!.Loss, loaded.History!.Loss);
        for (var i = 0; i < data.Count; i++) Assert.Equal(model.Predict(data.Features(i)), loaded.Predict(data.Features(i)));

        // Training continues identically from the loaded copy.
        model.Fit(data, epochs: 1, batchSize: 16, seed: 5, progress: new ProgressReporter(TextWriter.Null, live: false));
        loaded.Fit(data, epochs: 1, batchSize: 16, seed: 5, progress: new ProgressReporter(TextWriter.Null, live: false));
        Assert.Equal(model.Parameters, loaded.Parameters);
    }

    [Fact]
    public void Load_OfAnotherArchitecture_IsRefusedNamingBoth()
    {
        var path = Path.Combine(_folder, "valid.mgm");
        new LeNet5Valid(seed: 1).Save(path);

        var error = Assert.Throws<ModelFileException>(() => LeNet5.Load(path));

        Assert.Equal(ModelFileError.ArchitectureMismatch, error.Reason);
        Assert.Contains(typeof(LeNet5Valid).FullName!, error.Message);
        Assert.Contains(typeof(LeNet5).FullName!, error.Message);
    }

    [Fact]
    public async Task Save_WhileFitRunsOnAnotherThread_WritesFilesThatAllLoad()
    {
        // Batch size 1: thousands of small steps, so every save overlaps several updates of the weights and moments.
        var data = RandomData(64, 2);
        var model = new LeNet5(seed: 4);
        using var stop = new CancellationTokenSource();
        var fit = Task.Factory.StartNew(() =>
        {
            try
            {
                model.Fit(data, epochs: 10_000, batchSize: 1, seed: 6, progress: new ProgressReporter(TextWriter.Null, live: false), cancellationToken: stop.Token);
            }
            catch (OperationCanceledException)
            {
                // stopped by the test
            }
        }, TaskCreationOptions.LongRunning);

        var iterations = new List<long>();
        try
        {
            while (model.Optimizer is null) Thread.Sleep(1);
            for (var i = 0; i < 16; i++)
            {
                var path = Path.Combine(_folder, $"snapshot-{i}.mgm");
                model.Save(path);
                var loaded = LeNet5.Load(path); // a file that Save reports written always loads
                iterations.Add(loaded.Optimizer!.Iterations);
                Assert.True(loaded.Parameters.All(float.IsFinite));
            }
        }
        finally
        {
            stop.Cancel();
            await fit.WaitAsync(TimeSpan.FromMinutes(2));
        }

        Assert.True(fit.IsCompletedSuccessfully, "Fit did not stop after its cancellation");
        Assert.True(iterations[^1] > iterations[0], $"training did not run while saving (iterations {string.Join(", ", iterations)})");
    }
}

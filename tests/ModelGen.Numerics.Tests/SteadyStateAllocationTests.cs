namespace ModelGen.Numerics.Tests;

[Sequential(6, 6, 2)]
[Conv2D(4, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Flatten]
[Dense(5, Activation = Activation.Softmax)]
public partial class AllocationProbe;

/// <summary>Runs alone: the allocation counter is process-wide, so tests running beside it would be counted too.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

/// <summary>The training loop allocates nothing per step once it runs: only per call and per epoch.</summary>
[Collection(nameof(AllocationCollection))]
public class SteadyStateAllocationTests
{
    private static long AllocatedByFit(Dataset data, int epochs)
    {
        var model = new AllocationProbe(seed: 1);
        var options = new FitOptions
        {
            Epochs = epochs,
            BatchSize = 8,
            Seed = 2,
            Threads = 2,
            Progress = new ProgressReporter(TextWriter.Null, live: false),
        };
        Trainer.Fit(model, data, options); // warm-up: JIT, thread start-up, lazily created optimizer slots
        var before = GC.GetTotalAllocatedBytes(precise: true);
        Trainer.Fit(model, data, options);
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    [Fact]
    public void Fit_TwoMoreEpochsOf200Steps_AllocateOnlyPerEpochBookkeeping()
    {
        var random = new Random(3);
        var features = new float[1600 * AllocationProbe.InputLength];
        for (var i = 0; i < features.Length; i++) features[i] = (float)random.NextDouble();
        var data = new Dataset(features, Enumerable.Range(0, 1600).Select(i => i % 5).ToArray(), AllocationProbe.InputLength);

        // The smallest of three differences: a stray allocation elsewhere in the runtime cannot fail the test, a
        // per-step allocation shows up in every try.
        long twoEpochs = 0, fourEpochs = 0, extra = long.MaxValue;
        for (var attempt = 0; attempt < 3 && extra >= 4_000; attempt++)
        {
            twoEpochs = AllocatedByFit(data, 2);
            fourEpochs = AllocatedByFit(data, 4);
            extra = Math.Min(extra, fourEpochs - twoEpochs);
        }

        // 400 more steps: even 16 bytes a step would add 6,400 bytes. Two more epochs may allocate their history
        // entries and progress lines (well under a kilobyte each).
        Assert.True(extra < 4_000, $"2 epochs allocated {twoEpochs:N0} bytes, 4 epochs {fourEpochs:N0} bytes");
    }

    [Fact]
    public void Predict_IntoACallersBuffer_AllocatesNothing()
    {
        var model = new AllocationProbe(seed: 4);
        var input = new float[AllocationProbe.InputLength];
        for (var i = 0; i < input.Length; i++) input[i] = i / (float)input.Length;
        var output = new float[AllocationProbe.OutputLength];
        for (var i = 0; i < 100; i++) model.Predict(input, output); // warm-up: JIT, the thread's workspace

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            model.Predict(input, output);
            model.PredictClass(input);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1f, output.Sum(), 5);
    }
}

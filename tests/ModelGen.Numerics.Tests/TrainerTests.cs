using ModelGen.Numerics.Tests.Models;
using ModelGen.Numerics.Tests.Reference;
using static ModelGen.Numerics.Tests.Reference.Numerics;

namespace ModelGen.Numerics.Tests;

/// <summary>The runtime's batch gradients and training loop against the reference and against themselves across thread counts.</summary>
public class TrainerTests
{
    private static ProgressReporter Silent => new(TextWriter.Null, live: false);

    private static Dataset ToDataset((float[] Input, int Label)[] samples) =>
        new(samples.SelectMany(s => s.Input).ToArray(), samples.Select(s => s.Label).ToArray(), samples[0].Input.Length);

    private static Dataset RandomData(ReferenceNetwork reference, int count, int seed)
    {
        var random = new Random(seed);
        return ToDataset(Enumerable.Range(0, count).Select(_ => RandomSample(reference, random)).ToArray());
    }

    [Theory]
    [InlineData(nameof(SmallConvNet), 5)]
    [InlineData(nameof(MaxPoolChain), 11)] // more samples than the engine's 8 chunks, not a multiple of them
    [InlineData(nameof(MlpAllActivations), 3)] // fewer samples than chunks: some chunks are empty
    public void ComputeGradients_Batch_EqualsMeanOfPerSampleReferenceGradients(string model, int batch)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var indices = Enumerable.Range(0, c.Reference.ParameterCount).ToArray();
        var point = SmoothPoint(network, c.Reference, seed: 23, batch, indices);
        var data = ToDataset(point.Samples);

        var gradient = new float[c.Reference.ParameterCount];
        var loss = Trainer.ComputeGradients(network, data, gradient, threads: 2);

        var mean = point.Gradient.Select(g => g / batch).ToArray();
        AssertGradientClose(gradient, mean, c.Reference, indices, $"{model} ComputeGradients over {batch} samples");
        var doubles = point.Samples.Select(s => (ToDouble(s.Input), s.Label)).ToArray();
        AssertScalarClose(loss, c.Reference.Loss(point.Parameters, doubles) / batch, $"{model} ComputeGradients mean loss");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ComputeGradients_ThreadCount_BitIdenticalToTwoThreads(int threads)
    {
        var c = Catalog.Get(nameof(SmallConvNet));
        var network = c.Create(3);
        var data = RandomData(c.Reference, 37, seed: 4);
        float[] Run(int t)
        {
            var g = new float[c.Reference.ParameterCount];
            Trainer.ComputeGradients(network, data, g, t);
            return g;
        }

        var two = Run(2);
        Assert.Contains(two, g => g != 0);
        Assert.Equal(two, Run(threads));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Fit_SameSeed_BitIdenticalParametersToTwoThreads(int threads)
    {
        var c = Catalog.Get(nameof(SmallConvNet));
        var data = RandomData(c.Reference, 90, seed: 8);
        var validation = RandomData(c.Reference, 20, seed: 9);
        float[] Train(int t, int seed)
        {
            var network = c.Create(12);
            // 90 samples in batches of 16: 6 Adam steps per epoch, the last one partial.
            Trainer.Fit(network, data, new FitOptions
            {
                Epochs = 2, BatchSize = 16, Seed = seed, Threads = t, Validation = validation, Progress = Silent,
            });
            return network.Parameters;
        }

        var two = Train(2, seed: 5);
        Assert.NotEqual(c.Create(12).Parameters, two); // training moved the weights
        Assert.NotEqual(two, Train(2, seed: 6)); // the seed decides the batches, so it changes the result
        Assert.Equal(two, Train(threads, seed: 5));
    }

    [Fact]
    public void Evaluate_OneThread_EqualsReferenceLossAndAccuracy()
    {
        var c = Catalog.Get(nameof(MaxPoolChain));
        var network = c.Create(2);
        var p = RandomizeParameters(network, c.Reference, seed: 3);
        var random = new Random(4);
        var samples = Enumerable.Range(0, 30).Select(_ => RandomSample(c.Reference, random)).ToArray();

        var result = Trainer.Evaluate(network, ToDataset(samples), threads: 1);

        var loss = samples.Average(s => c.Reference.Loss(p, ToDouble(s.Input), s.Label));
        var correct = samples.Count(s =>
        {
            var output = c.Reference.Run(p, s.Input).Output;
            return Array.IndexOf(output, output.Max()) == s.Label;
        });
        AssertScalarClose(result.Loss, loss, "Evaluate loss");
        Assert.Equal(correct / 30.0, result.Accuracy, 12);
    }

    [Fact]
    public void Fit_OneFullBatchSgdStep_AppliesTheMeanReferenceGradient()
    {
        // One epoch with one batch holding all samples and plain SGD is w ← w − lr·mean(∇loss): the shuffle cannot matter.
        var c = Catalog.Get(nameof(AvgPoolChain));
        var network = c.Create(1);
        const int Count = 6;
        const double LearningRate = 0.125; // exact in float
        var indices = Enumerable.Range(0, c.Reference.ParameterCount).ToArray();
        var point = SmoothPoint(network, c.Reference, seed: 31, Count, indices);
        var before = (float[])network.Parameters.Clone();

        Trainer.Fit(network, ToDataset(point.Samples), new FitOptions
        {
            Epochs = 1, BatchSize = Count, Seed = 1, Threads = 2, Optimizer = new Sgd(LearningRate), Progress = Silent,
        });

        var applied = new float[before.Length];
        for (var i = 0; i < applied.Length; i++) applied[i] = (float)((before[i] - (double)network.Parameters[i]) / LearningRate);
        var mean = point.Gradient.Select(g => g / Count).ToArray();
        AssertGradientClose(applied, mean, c.Reference, indices, "gradient applied by one full-batch SGD step");
    }

    [Fact]
    public void Fit_BatchesOfAnEpoch_CoverEverySampleOnceWithPerBatchMeans()
    {
        // An optimizer that records each batch gradient and leaves the weights alone: 7 samples in batches of 3 give steps
        // of 3, 3 and 1 samples, each gradient the mean over its own batch. Weighted by the batch sizes, their sum is the
        // summed gradient over all samples, whatever the shuffle: checked against the reference.
        var c = Catalog.Get(nameof(MlpAllActivations));
        var network = c.Create(1);
        const int Count = 7, Batch = 3;
        var indices = Enumerable.Range(0, c.Reference.ParameterCount).ToArray();
        var point = SmoothPoint(network, c.Reference, seed: 41, Count, indices);
        var recorder = new RecordingOptimizer();

        Trainer.Fit(network, ToDataset(point.Samples), new FitOptions
        {
            Epochs = 1, BatchSize = Batch, Seed = 3, Threads = 2, Optimizer = recorder, Progress = Silent,
        });

        Assert.Equal(3, recorder.Gradients.Count);
        int[] sizes = [3, 3, 1];
        var sum = new float[c.Reference.ParameterCount];
        for (var i = 0; i < sum.Length; i++)
        {
            sum[i] = (float)Enumerable.Range(0, 3).Sum(s => sizes[s] * (double)recorder.Gradients[s][i]);
        }

        AssertGradientClose(sum, point.Gradient, c.Reference, indices, "batch-size-weighted sum of the recorded batch gradients");
    }

    /// <summary>Records every batch gradient; never changes the parameters.</summary>
    private sealed class RecordingOptimizer : Optimizer
    {
        public List<float[]> Gradients { get; } = [];

        public override void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
        {
            Gradients.Add(gradient.ToArray());
            Iterations++;
        }

        public override OptimizerState GetState() => new("recording", Iterations, [], []);

        public override void SetState(OptimizerState state) => Iterations = state.Iterations;
    }
}

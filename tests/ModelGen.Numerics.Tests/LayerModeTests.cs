using ModelGen.CompilerServices;
using ModelGen.Numerics.Tests.Models;
using ModelGen.Numerics.Tests.Reference;
using static ModelGen.Numerics.Tests.Reference.Numerics;

namespace ModelGen.Numerics.Tests;

/// <summary>
/// Training against inference mode for BatchNormalization and Dropout: the training pass against the double reference
/// (batch statistics, the documented dropout masks), the moving statistics against Keras's update rule step by step,
/// what a failed step and ComputeGradients leave untouched, and masks that do not depend on the thread count. Inference
/// mode, the gradients through the batch statistics and GlobalAveragePooling2D are checked for every catalog model by
/// ForwardTests and GradientTests.
/// </summary>
public class LayerModeTests
{
    private static ProgressReporter Silent => new(TextWriter.Null, live: false);

    public static TheoryData<string> ModeDependentModels() => Catalog.ModeDependentNames();

    private static float[][] Samples(ReferenceNetwork reference, int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => RandomSample(reference, random).Input).ToArray();
    }

    private static Dataset ToDataset(float[][] inputs, ReferenceNetwork reference, int seed)
    {
        var random = new Random(seed);
        var labels = inputs.Select(_ => random.Next(reference.Output.Length)).ToArray();
        return new Dataset(inputs.SelectMany(x => x).ToArray(), labels, inputs[0].Length);
    }

    [Fact]
    public void DropoutPassKey_IsTheDocumentedHash()
    {
        foreach (var (seed, epoch, step) in new[] { (0, 0, 0), (42, 1, 1), (-7, 3, 1875), (int.MaxValue, 10, 2) })
        {
            Assert.Equal(ReferenceDropout.PassKey(seed, epoch, step), Dropout.PassKey(seed, epoch, step));
        }

        Assert.Equal(ReferenceDropout.PassKey(0, 0, 0), CpuEngine.ComputeGradientsDropoutKey);
    }

    [Theory]
    [MemberData(nameof(ModeDependentModels))]
    public void TrainingForward_BatchOfSamples_MatchesReferenceWithBatchStatisticsAndMasks(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var p = RandomizeParameters(network, c.Reference, seed: 61);
        var key = Dropout.PassKey(5, 2, 7);
        var inputs = Samples(c.Reference, 6, seed: 62);

        // A workspace for more samples than the pass holds, full of NaN, and used for an inference pass first.
        using var passes = new Passes(network, capacity: 9, threads: 2);
        passes.Forward(Samples(c.Reference, 9, seed: 63));
        var logits = passes.Forward(inputs, training: true, key);

        var expected = c.Reference.RunBatch(p, inputs.Select(ToDouble).ToArray(), new RefTraining(key));
        for (var n = 0; n < inputs.Length; n++) AssertForwardClose(logits[n], expected[n].Logits, $"{model} training logits, sample {n}");

        // The modes really differ: inference normalises with the moving statistics and keeps every value.
        var inference = passes.Forward(inputs);
        Assert.Contains(Enumerable.Range(0, inputs.Length), n => Math.Abs(inference[n][0] - logits[n][0]) > 1e-3);
    }

    [Fact]
    public void Dropout_Mask_IsTheDocumentedHashAndDropsTheRate()
    {
        // DropoutOnly is the mask itself: 64 values a sample, kept ones divided by 0.7, dropped ones 0.
        var network = new DropoutOnly(1);
        const int Count = 200;
        var inputs = Enumerable.Range(0, Count).Select(n => Enumerable.Range(0, 64).Select(u => 1f + (n * 64 + u) % 7).ToArray()).ToArray();
        var key = Dropout.PassKey(11, 3, 17);
        using var passes = new Passes(network, capacity: Count);
        var outputs = passes.Forward(inputs, training: true, key);

        var dropped = 0;
        for (var n = 0; n < Count; n++)
        {
            for (var u = 0; u < 64; u++)
            {
                var kept = ReferenceDropout.Keeps(key, 1, n, u, 0.3);
                Assert.Equal(kept ? inputs[n][u] / 0.7f : 0f, outputs[n][u]);
                if (!kept) dropped++;
            }
        }

        // 12,800 values dropped with probability 0.3: 3,840 expected, standard deviation 52; five of them either way.
        Assert.InRange(dropped, 3840 - 260, 3840 + 260);

        // Another step draws another mask; inference drops nothing.
        var other = passes.Forward(inputs, training: true, Dropout.PassKey(11, 3, 18));
        Assert.NotEqual(outputs.SelectMany(o => o).Select(v => v == 0), other.SelectMany(o => o).Select(v => v == 0));
        var inference = passes.Forward(inputs);
        for (var n = 0; n < Count; n++) Assert.Equal(inputs[n], inference[n]);
    }

    [Theory]
    [InlineData(nameof(DropoutImage))]
    [InlineData(nameof(ModeNet))]
    public void TrainingPass_OneTwoAndThreeThreads_SameMasksAndBits(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        RandomizeParameters(network, c.Reference, seed: 71);
        var inputs = Samples(c.Reference, 13, seed: 72);
        var key = Dropout.PassKey(3, 1, 4);
        var seeds = inputs.Select((_, n) => Enumerable.Range(0, c.Reference.Output.Length).Select(k => 0.1f * ((n + k) % 5 - 2)).ToArray()).ToArray();

        float[][] logits = [];
        float[] gradient = [];
        foreach (var threads in new[] { 1, 2, 3 })
        {
            using var passes = new Passes(network, capacity: 13, threads);
            var l = passes.Forward(inputs, training: true, key);
            var g = passes.Gradient(inputs, seeds, key);
            if (threads == 1)
            {
                (logits, gradient) = (l, g);
                continue;
            }

            for (var n = 0; n < inputs.Length; n++) Assert.Equal(logits[n], l[n]);
            Assert.Equal(gradient, g);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Fit_WithBatchNormalizationAndDropout_BitIdenticalToTwoThreads(int threads)
    {
        var c = Catalog.Get(nameof(ModeNet));
        var data = ToDataset(Samples(c.Reference, 45, seed: 81), c.Reference, seed: 82);
        float[] Train(int t)
        {
            var network = c.Create(9);
            Trainer.Fit(network, data, new FitOptions { Epochs = 2, BatchSize = 16, Seed = 4, Threads = t, Progress = Silent });
            return network.Parameters; // the moving statistics included
        }

        var two = Train(2);
        var before = c.Create(9).Parameters;
        Assert.NotEqual(before.AsSpan(ModeNet.TrainableParameterCount).ToArray(), two.AsSpan(ModeNet.TrainableParameterCount).ToArray());
        Assert.Equal(two, Train(threads));
    }

    [Theory]
    [InlineData(nameof(BatchNormConv))]
    [InlineData(nameof(BatchNormFirst))] // momentum 0.9, epsilon 0.01
    [InlineData(nameof(BatchNormDense))]
    [InlineData(nameof(ModeNet))] // dropout before two of its BatchNormalization layers: their statistics depend on the masks
    public void Fit_FullBatchSteps_MoveTheMovingStatisticsByKerasRule(string model)
    {
        // The weights stay put (the optimizer records and applies nothing), so every step sees the same batch: after step k,
        // moving = moving·momentum + batch·(1 − momentum) in float from (0, 1), with the batch's statistics from the reference
        // in the order Fit's shuffle put the samples (each sample's dropout mask follows its place in the batch).
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var p = RandomizeParameters(network, c.Reference, seed: 91);
        foreach (var l in c.Reference.Layers.Where(l => l.Kind == RefKind.BatchNormalization))
        {
            for (var ch = 0; ch < l.In.C; ch++)
            {
                network.Parameters[c.Reference.MovingMeanOffset(l) + ch] = 0f;
                network.Parameters[c.Reference.MovingVarianceOffset(l) + ch] = 1f;
            }
        }

        var inputs = Samples(c.Reference, 7, seed: 92);
        var data = ToDataset(inputs, c.Reference, seed: 93);
        const int Seed = 21, Epochs = 3;
        Trainer.Fit(network, data, new FitOptions { Epochs = Epochs, BatchSize = inputs.Length, Seed = Seed, Threads = 2, Optimizer = new RecordingOptimizer(), Progress = Silent });

        var layers = c.Reference.Layers.Where(l => l.Kind == RefKind.BatchNormalization).ToList();
        var mean = layers.Select(l => new float[l.In.C]).ToArray();
        var variance = layers.Select(l => Enumerable.Repeat(1f, l.In.C).ToArray()).ToArray();
        var order = new int[inputs.Length];
        for (var epoch = 1; epoch <= Epochs; epoch++)
        {
            Trainer.ShuffledOrder(order, Seed, epoch);
            var statistics = new List<(double[] Mean, double[] Variance)>();
            c.Reference.RunBatch(p, order.Select(i => ToDouble(inputs[i])).ToArray(), new RefTraining(ReferenceDropout.PassKey(Seed, epoch, 1)), statistics: statistics);
            for (var k = 0; k < layers.Count; k++)
            {
                float momentum = (float)layers[k].Momentum, rest = (float)(1 - layers[k].Momentum);
                for (var ch = 0; ch < layers[k].In.C; ch++)
                {
                    mean[k][ch] = mean[k][ch] * momentum + (float)statistics[k].Mean[ch] * rest;
                    variance[k][ch] = variance[k][ch] * momentum + (float)statistics[k].Variance[ch] * rest;
                }
            }
        }

        for (var k = 0; k < layers.Count; k++)
        {
            var actualMean = network.Parameters.AsSpan(c.Reference.MovingMeanOffset(layers[k]), layers[k].In.C);
            var actualVariance = network.Parameters.AsSpan(c.Reference.MovingVarianceOffset(layers[k]), layers[k].In.C);
            AssertForwardClose(actualMean, Array.ConvertAll(mean[k], v => (double)v), $"{model} {layers[k].Name}/moving_mean after {Epochs} steps");
            AssertForwardClose(actualVariance, Array.ConvertAll(variance[k], v => (double)v), $"{model} {layers[k].Name}/moving_variance after {Epochs} steps");
        }

        // The trainable parameters did not move: only the moving statistics did.
        Assert.Equal(Array.ConvertAll(p, v => (float)v).AsSpan(0, c.Reference.TrainableParameterCount).ToArray(),
            network.Parameters.AsSpan(0, c.Reference.TrainableParameterCount).ToArray());
    }

    [Fact]
    public void ComputeGradients_ChangesNothingOfTheNetwork()
    {
        var c = Catalog.Get(nameof(ModeNet));
        var network = c.Create(2);
        var before = (float[])network.Parameters.Clone();
        var gradient = new float[ModeNet.TrainableParameterCount];
        var data = ToDataset(Samples(c.Reference, 5, seed: 101), c.Reference, seed: 102);

        var first = Trainer.ComputeGradients(network, data, gradient, threads: 2);
        var again = new float[gradient.Length];
        Assert.Equal(first, Trainer.ComputeGradients(network, data, again, threads: 1));

        Assert.Equal(before, network.Parameters);
        Assert.Equal(gradient, again); // the same masks every call
        Assert.Contains(gradient, g => g != 0);
        var error = Assert.Throws<ArgumentException>(() => Trainer.ComputeGradients(network, data, new float[ModeNet.ParameterCount]));
        Assert.Contains($"{ModeNet.TrainableParameterCount} trainable parameters", error.Message);
    }

    [Fact]
    public void Fit_StepWhoseBatchStatisticsOverflow_FailsAndKeepsWeightsAndMovingStatistics()
    {
        // Inputs of 1e30 are finite, but their variance (1e60) is not a float: the layer outputs NaN, the loss is not finite,
        // the step is refused and nothing it computed is kept.
        var network = new BatchNormFirst(3);
        var before = (float[])network.Parameters.Clone();
        var features = Enumerable.Range(0, 4 * BatchNormFirst.InputLength).Select(i => i % 3 == 0 ? 1e30f : -1e30f).ToArray();
        var data = new Dataset(features, [0, 1, 0, 1], BatchNormFirst.InputLength);

        var error = Assert.Throws<TrainingDivergedException>(() =>
            network.Fit(data, epochs: 1, batchSize: 4, seed: 1, progress: Silent));

        Assert.Contains("step 1", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, network.Parameters);
    }

    [Fact]
    public void SaveThenLoad_KeepsTheMovingStatisticsAndPredictsTheSame()
    {
        var c = Catalog.Get(nameof(ModeNet));
        var network = new ModeNet(5);
        var data = ToDataset(Samples(c.Reference, 20, seed: 111), c.Reference, seed: 112);
        network.Fit(data, epochs: 2, batchSize: 8, seed: 7, progress: Silent);
        var folder = Directory.CreateTempSubdirectory("modelgen-modes-");
        try
        {
            var path = Path.Combine(folder.FullName, "modes.mgm");
            network.Save(path);
            var loaded = ModeNet.Load(path);

            Assert.Equal(network.Parameters, loaded.Parameters);
            Assert.NotEqual(1f, loaded.BatchNormalization_2_MovingVariance[0]); // moved by training, and saved
            Assert.Equal(ModeNet.TrainableParameterCount, loaded.Optimizer!.GetState().Slots[0].Length);
            Assert.Equal(network.PredictBatch(data.AllFeatures), loaded.PredictBatch(data.AllFeatures));
            var content = ModelFile.Read(path);
            Assert.Equal(ModeNet.ParameterCount, content.ParameterCount);
            Assert.Equal(ModeNet.TrainableParameterCount, content.TrainableParameterCount);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_FileOfTheFirstFormatOfAnUnchangedArchitecture_LoadsAndPredictsAsBefore()
    {
        // Fixtures/mlp-logits-format1.mgm was saved by the runtime before non-trainable parameters existed (an MlpLogits
        // trained six Adam steps); the probe's outputs are what that runtime printed for it.
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "mlp-logits-format1.mgm");
        var model = MlpLogits.Load(path);

        Assert.Equal(6, model.Optimizer!.Iterations);
        Assert.Equal(MlpLogits.ParameterCount, model.Optimizer.GetState().Slots[0].Length);
        var output = model.Predict([0.5f, -0.25f, 0.125f, 1f, -1f, 0.75f]);
        Assert.Equal([-0.14728665f, -0.7114701f, 0.21266739f], output);

        // Saved again by this runtime, the file is laid out as before: no trainable count in the header.
        var folder = Directory.CreateTempSubdirectory("modelgen-format1-");
        try
        {
            var again = Path.Combine(folder.FullName, "again.mgm");
            model.Save(again);
            var (old, now) = (ModelFile.Read(path), ModelFile.Read(again));
            Assert.Equal(old.Fingerprint, now.Fingerprint);
            Assert.Equal(old.Parameters, now.Parameters);
            Assert.Equal(old.Optimizer!.Slots, now.Optimizer!.Slots);
            Assert.Equal(old.ParameterCount, now.TrainableParameterCount);
            Assert.DoesNotContain("trainableParameterCount", File.ReadAllText(again, System.Text.Encoding.Latin1), StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void GeneratedViews_NameTheMovingStatisticsNonTrainableAfterTheTrainableOnes()
    {
        var d = ModeNet.ModelDescription;
        var trainable = d.ParameterViews.Where(v => v.Trainable).ToList();
        var state = d.ParameterViews.Where(v => !v.Trainable).ToList();
        Assert.All(state, v => Assert.Matches(@"^batch_normalization(_\d)?/moving_(mean|variance)$", v.Name));
        Assert.Equal(d.TrainableParameterCount, trainable.Sum(v => v.Length));
        Assert.Equal(d.NonTrainableParameterCount, state.Sum(v => v.Length));
        Assert.All(state, v => Assert.True(v.Offset >= d.TrainableParameterCount));
        Assert.All(trainable, v => Assert.True(v.Offset + v.Length <= d.TrainableParameterCount));
        // Keras's get_weights() order within a layer: gamma, beta, moving_mean, moving_variance.
        Assert.Equal(
            ["batch_normalization/gamma", "batch_normalization/beta", "batch_normalization/moving_mean", "batch_normalization/moving_variance"],
            d.ParameterViews.Select(v => v.Name).Where(n => n.StartsWith("batch_normalization/", StringComparison.Ordinal)));
        Assert.Equal(1f, new ModeNet(3).BatchNormalization_2_Gamma[0]);
        Assert.Equal(1f, new ModeNet(3).BatchNormalization_2_MovingVariance[3]);
        Assert.Equal(0f, new ModeNet(3).BatchNormalization_2_MovingMean[1]);
        Assert.Equal(0f, new ModeNet(3).BatchNormalization_2_Beta[2]);
    }

    /// <summary>Records each step and applies nothing: the weights stay, so only the moving statistics change.</summary>
    private sealed class RecordingOptimizer : Optimizer
    {
        public override void Step(Span<float> parameters, ReadOnlySpan<float> gradient) => Iterations++;

        public override OptimizerState GetState() => new("recording", Iterations, [], []);

        public override void SetState(OptimizerState state) => Iterations = state.Iterations;
    }
}

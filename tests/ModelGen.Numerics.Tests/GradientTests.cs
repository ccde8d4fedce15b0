using ModelGen.Numerics.Tests.Models;
using ModelGen.Numerics.Tests.Reference;
using static ModelGen.Numerics.Tests.Reference.Numerics;

namespace ModelGen.Numerics.Tests;

/// <summary>
/// The generated backward pass against central finite differences of the double-precision reference. The tolerance rule
/// and the step are justified on <see cref="Numerics.GradientAbsolute"/> and <see cref="Numerics.FiniteDifferenceStep"/>.
/// </summary>
public class GradientTests
{
    public static TheoryData<string> TrainableModels() => Catalog.TrainableNames();

    [Theory]
    [MemberData(nameof(TrainableModels))]
    public void ComputeGradients_Batch_MatchesFiniteDifferencesOfTheMeanLoss(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var indices = CheckedIndices(c.Reference, seed: 9);
        var samples = c.Reference.ParameterCount > Catalog.FullCheckLimit ? 1 : 3;
        var point = SmoothPoint(network, c.Reference, seed: 17, samples, indices);
        var data = new Dataset(point.Samples.SelectMany(s => s.Input).ToArray(), point.Samples.Select(s => s.Label).ToArray(), point.Samples[0].Input.Length);

        var gradient = new float[network.Description.TrainableParameterCount];
        Trainer.ComputeGradients(network, data, gradient, threads: 2);

        var mean = point.Gradient.Select(g => g / samples).ToArray();
        AssertGradientClose(gradient, mean, c.Reference, indices, $"{model} (test point drawn after {point.Attempt} redraws)");
    }

    [Theory]
    [MemberData(nameof(TrainableModels))]
    public void Backward_StaleBuffersAndThreadCounts_WriteEveryGradientValueTheSame(string model)
    {
        // Backward writes every gradient value (the buffer starts as NaN) from the activations its own forward pass left,
        // whatever an earlier pass left in the workspace, with the same bits on 1 and 3 threads.
        var c = Catalog.Get(model);
        var network = c.Create(1);
        RandomizeParameters(network, c.Reference, seed: 5);
        var random = new Random(6);
        float[][] Samples(int n) => Enumerable.Range(0, n).Select(_ => RandomSample(c.Reference, random).Input).ToArray();
        float[][] Seeds(int n) => Enumerable.Range(0, n)
            .Select(_ => Enumerable.Range(0, c.Reference.Output.Length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray();
        var (earlier, earlierSeeds) = (Samples(6), Seeds(6));
        var (inputs, seeds) = (Samples(4), Seeds(4));

        using var fresh = new Passes(network, capacity: 6);
        var expected = fresh.Gradient(inputs, seeds);
        Assert.All(expected, g => Assert.True(float.IsFinite(g)));
        Assert.Contains(expected, g => g != 0);

        using var reused = new Passes(network, capacity: 6, threads: 3);
        reused.Gradient(earlier, earlierSeeds);
        Assert.Equal(expected, reused.Gradient(inputs, seeds));
    }

    [Fact]
    public void GradientCases_ExerciseEveryLayerActivationAndInputGradientPath()
    {
        // Guards the test list itself: every layer type and activation has its parameter gradient checked, and every
        // d(loss)/d(input) path the generator can emit (a layer with parameters somewhere before it) is on some path
        // between a checked parameter and the loss.
        var nets = Catalog.All.Where(c => c.Reference.ParameterCount > 0).Select(c => c.Reference).ToList();
        var seen = new HashSet<string>();
        foreach (var r in nets)
        {
            var trainableBefore = false;
            foreach (var l in r.Layers)
            {
                if (l.HasParameters) seen.Add($"{l.Kind} {l.Activation}");
                if (trainableBefore)
                {
                    seen.Add($"dx {l.Kind}");
                    if (l.Kind == RefKind.BatchNormalization) seen.Add($"dx BatchNormalization {(l.In.IsImage ? "image" : "vector")}");
                    if (l.Kind == RefKind.Dropout) seen.Add($"dx Dropout {(l.In.IsImage ? "image" : "vector")}");
                    if (l.Kind == RefKind.Conv2D)
                    {
                        seen.Add($"dx Conv2D {l.Padding}");
                        if (l.Stride > 1) seen.Add($"dx Conv2D {l.Padding} strided");
                        if (l.K > 7) seen.Add($"dx Conv2D {l.Padding} looped kernel");
                    }

                    if (l.Kind is RefKind.MaxPool2D or RefKind.AvgPool2D)
                    {
                        seen.Add($"dx {l.Kind} {(l.K * l.K > 16 ? "looped" : "written out")}");
                        if (l.Stride < l.K) seen.Add($"dx {l.Kind} overlapping");
                    }
                }

                trainableBefore |= l.HasParameters;
            }

            if (!trainableBefore) continue;
            seen.Add(r.SoftmaxOutput ? "loss softmax" : "loss logits");
            if (r.Layers[0].Kind is RefKind.MaxPool2D or RefKind.AvgPool2D) seen.Add($"first {r.Layers[0].Kind}");
            if (r.Layers[^1].Kind is RefKind.MaxPool2D or RefKind.AvgPool2D) seen.Add("last pool");
            if (r.Output.IsImage && r.Output.H * r.Output.W > 1) seen.Add("image logits");
        }

        string[] required =
        [
            .. new[] { "Conv2D", "Dense" }.SelectMany(k => Enum.GetNames<Activation>().Select(a => $"{k} {a}")),
            "dx Conv2D Valid", "dx Conv2D Same", "dx Conv2D Valid strided", "dx Conv2D Same strided",
            "dx Conv2D Valid looped kernel", "dx Conv2D Same looped kernel",
            "dx MaxPool2D written out", "dx MaxPool2D looped", "dx MaxPool2D overlapping",
            "dx AvgPool2D written out", "dx AvgPool2D looped", "dx AvgPool2D overlapping",
            "dx Flatten", "dx Dense", "BatchNormalization None", "dx BatchNormalization image", "dx BatchNormalization vector",
            "dx Dropout image", "dx Dropout vector", "dx GlobalAveragePooling2D",
            "loss softmax", "loss logits", "first MaxPool2D", "first AvgPool2D", "last pool", "image logits",
        ];
        Assert.Empty(required.Except(seen));
    }

    /// <summary>
    /// All trainable parameters of small networks; for large ones every bias and a seeded sample of kernel entries per
    /// tensor. (The moving statistics have no gradient: they do not enter a training pass.)
    /// </summary>
    internal static IReadOnlyList<int> CheckedIndices(ReferenceNetwork reference, int seed)
    {
        if (reference.ParameterCount <= Catalog.FullCheckLimit) return Enumerable.Range(0, reference.TrainableParameterCount).ToArray();
        var random = new Random(seed);
        var indices = new SortedSet<int>();
        foreach (var (name, offset, shape) in reference.Views().Where(v => v.Offset < reference.TrainableParameterCount))
        {
            var length = shape.Aggregate(1, (a, b) => a * b);
            var take = name.EndsWith("/bias", StringComparison.Ordinal) ? Math.Min(length, 16) : Math.Min(length, 24);
            while (take > 0)
            {
                if (indices.Add(offset + random.Next(length))) take--;
            }
        }

        return indices.ToArray();
    }
}

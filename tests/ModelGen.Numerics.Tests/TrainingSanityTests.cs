namespace ModelGen.Numerics.Tests;

[Sequential(12, 12, 1)]
[Conv2D(4, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[MaxPool2D(2)]
[Flatten]
[Dense(4, Activation = Activation.Softmax)]
public partial class QuadrantNet;

/// <summary>End to end: a small convolutional network learns a synthetic task that is separable by construction.</summary>
public class TrainingSanityTests
{
    /// <summary>12x12 images of faint noise with one bright 3x3 blob; the label is the quadrant the blob lies in.</summary>
    private static Dataset Blobs(int count, int seed)
    {
        var random = new Random(seed);
        var features = new float[count * 144];
        var labels = new int[count];
        for (var s = 0; s < count; s++)
        {
            var image = features.AsSpan(s * 144, 144);
            for (var i = 0; i < 144; i++) image[i] = (float)(random.NextDouble() * 0.3);
            var quadrant = random.Next(4);
            var top = quadrant / 2 * 6 + random.Next(4);
            var left = quadrant % 2 * 6 + random.Next(4);
            for (var y = top; y < top + 3; y++)
                for (var x = left; x < left + 3; x++)
                    image[y * 12 + x] = 0.7f + (float)(random.NextDouble() * 0.3);
            labels[s] = quadrant;
        }

        return new Dataset(features, labels, 144);
    }

    [Fact]
    public void Fit_QuadrantOfABrightBlob_ReachesAtLeast95PercentOnHeldOutData()
    {
        var network = new QuadrantNet(seed: 1);
        var train = Blobs(1200, seed: 2);
        var test = Blobs(400, seed: 3);
        var before = Trainer.Evaluate(network, test);

        var history = Trainer.Fit(network, train, new FitOptions
        {
            Epochs = 4, BatchSize = 32, Seed = 4, Optimizer = new Adam(learningRate: 0.01), Validation = test,
            Progress = new ProgressReporter(TextWriter.Null, live: false),
        });
        var after = Trainer.Evaluate(network, test);

        Assert.InRange(before.Accuracy, 0.0, 0.5); // untrained: about chance (0.25)
        Assert.True(after.Accuracy >= 0.95, $"held-out accuracy after 4 epochs: {after.Accuracy:P1} (loss {after.Loss:F4})");
        Assert.True(history.Loss[^1] < history.Loss[0], "the training loss did not decrease");
        Assert.Equal(after.Accuracy, history.ValAccuracy[^1], 12);
    }
}

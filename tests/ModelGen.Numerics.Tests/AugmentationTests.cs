using ModelGen.Numerics.Tests.Models;
using static ModelGen.Numerics.Tests.Reference.Numerics;

namespace ModelGen.Numerics.Tests;

/// <summary>
/// Image augmentation: the resampler against transforms whose result is known exactly (whole-pixel shifts under each fill
/// mode, a quarter turn, the identity), its eight-pixel path against its one-pixel path, Keras's factor conventions, and
/// training with it: bit-identical for any thread count, on training batches only.
/// </summary>
public class AugmentationTests
{
    private const int H = 7, W = 11;

    private static float[] Image(int height, int width, int channels, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, height * width * channels).Select(_ => (float)random.NextDouble())];
    }

    private static ImageAugmenter Augmenter(FillMode fill = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, int channels = 1, bool vectorized = true) =>
        new(new ImageAugmentation(new RandomRotation(0.1)) { FillMode = fill, Interpolation = interpolation, FillValue = -7 }, H, W, channels, seed: 1)
        {
            Vectorized = vectorized,
        };

    /// <summary>Where whole index <paramref name="i"/> of a row of <paramref name="n"/> reads under each fill mode (-1: the fill value).</summary>
    private static int Source(int i, int n, FillMode fill) => fill switch
    {
        _ when i >= 0 && i < n => i,
        FillMode.Reflect => i < 0 ? -i - 1 : 2 * n - i - 1, // (d c b a | a b c d | d c b a), for shifts below n
        FillMode.Wrap => ((i % n) + n) % n,
        FillMode.Nearest => Math.Clamp(i, 0, n - 1),
        _ => -1,
    };

    [Theory]
    [InlineData(FillMode.Reflect, 2, -1)]
    [InlineData(FillMode.Reflect, -3, 2)]
    [InlineData(FillMode.Wrap, 2, -1)]
    [InlineData(FillMode.Nearest, -3, 2)]
    [InlineData(FillMode.Constant, 4, -3)]
    public void WholePixelShift_MovesPixels_AndFillsAsTheModeSays(FillMode fill, int dx, int dy)
    {
        foreach (var interpolation in new[] { Interpolation.Bilinear, Interpolation.Nearest })
        {
            foreach (var vectorized in new[] { true, false })
            {
                var image = Image(H, W, 1, seed: 3);
                var output = new float[image.Length];
                // RandomTranslation's matrix: output (x, y) reads input (x - dx, y - dy).
                Augmenter(fill, interpolation, vectorized: vectorized).Resample(image, output, new AffineMap(1, 0, -dx, 0, 1, -dy));
                for (var y = 0; y < H; y++)
                {
                    for (var x = 0; x < W; x++)
                    {
                        int sx = Source(x - dx, W, fill), sy = Source(y - dy, H, fill);
                        var expected = sx < 0 || sy < 0 ? -7f : image[sy * W + sx];
                        Assert.True(expected == output[y * W + x], $"{fill} {interpolation} vectorized={vectorized}: pixel ({x},{y}) is {output[y * W + x]}, expected {expected}");
                    }
                }
            }
        }
    }

    [Fact]
    public void QuarterTurn_IsCounterClockwise_AsKerasRotates()
    {
        const int n = 9;
        var image = Image(n, n, 1, seed: 4);
        var output = new float[image.Length];
        var augmenter = new ImageAugmenter(new ImageAugmentation(new RandomRotation((0.25, 0.25))), n, n, 1, seed: 2);
        var map = augmenter.TransformOf(epoch: 1, sample: 0);
        augmenter.Resample(image, output, map);
        for (var y = 0; y < n; y++)
        {
            for (var x = 0; x < n; x++)
            {
                // numpy's rot90 (counter-clockwise): out[y][x] = in[x][n - 1 - y].
                Assert.Equal(image[x * n + (n - 1 - y)], output[y * n + x], 5);
            }
        }
    }

    [Fact]
    public void ZeroFactors_LeaveTheImageAsItIs()
    {
        var image = Image(H, W, 3, seed: 5);
        var output = new float[image.Length];
        var augmenter = new ImageAugmenter(
            new ImageAugmentation(new RandomRotation(0), new RandomTranslation(0, 0), new RandomZoom(0)), H, W, 3, seed: 9);
        augmenter.Apply(image, output, epoch: 3, sample: 17);
        Assert.Equal(image, output);
    }

    [Theory]
    [InlineData(FillMode.Reflect, Interpolation.Bilinear, 1)]
    [InlineData(FillMode.Wrap, Interpolation.Bilinear, 3)]
    [InlineData(FillMode.Nearest, Interpolation.Nearest, 2)]
    [InlineData(FillMode.Constant, Interpolation.Bilinear, 1)]
    [InlineData(FillMode.Constant, Interpolation.Nearest, 3)]
    public void EightPixelPath_EqualsOnePixelPath_ForRandomTransforms(FillMode fill, Interpolation interpolation, int channels)
    {
        var augmentation = new ImageAugmentation(new RandomRotation(0.5), new RandomTranslation(0.6, 0.6), new RandomZoom((-0.5, 0.9)))
        {
            FillMode = fill, Interpolation = interpolation, FillValue = 0.25f,
        };
        var vector = new ImageAugmenter(augmentation, H, W, channels, seed: 3) { Vectorized = true };
        var scalar = new ImageAugmenter(augmentation, H, W, channels, seed: 3) { Vectorized = false };
        var image = Image(H, W, channels, seed: 6);
        for (var sample = 0; sample < 200; sample++)
        {
            var a = new float[image.Length];
            var b = new float[image.Length];
            vector.Apply(image, a, epoch: 2, sample);
            scalar.Apply(image, b, epoch: 2, sample);
            Assert.Equal(b, a);
            Assert.All(a, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void Draws_FollowKerasFactorConventions()
    {
        var translation = new ImageAugmenter(new ImageAugmentation(new RandomTranslation((0.1, 0.3), 0.2)), 20, 50, 1, seed: 1);
        var rotation = new ImageAugmenter(new ImageAugmentation(new RandomRotation(0.1)), 20, 50, 1, seed: 1);
        var zoom = new ImageAugmenter(new ImageAugmentation(new RandomZoom(0.2)), 20, 50, 1, seed: 1);
        var shifts = Enumerable.Range(0, 2000).Select(s => translation.TransformOf(1, s)).ToArray();
        // Height factor (0.1, 0.3) of 20 rows: shifts of 2..6 rows down (the map reads y - dy); width ±0.2 of 50 columns.
        Assert.All(shifts, m => Assert.InRange(-m.B2, 2, 6));
        Assert.All(shifts, m => Assert.InRange(-m.A2, -10, 10));
        Assert.Contains(shifts, m => -m.A2 < -9);
        Assert.Contains(shifts, m => -m.A2 > 9);

        var angles = Enumerable.Range(0, 2000).Select(s => rotation.TransformOf(1, s)).Select(m => Math.Atan2(m.B0, m.A0)).ToArray();
        Assert.All(angles, a => Assert.InRange(a, -0.2 * Math.PI, 0.2 * Math.PI));
        Assert.Contains(angles, a => a > 0.19 * Math.PI);

        // No width factor: one zoom draw for both directions (aspect ratio kept), in [0.8, 1.2].
        Assert.All(Enumerable.Range(0, 500).Select(s => zoom.TransformOf(1, s)), m =>
        {
            Assert.Equal(m.A0, m.B1);
            Assert.InRange(m.A0, 0.8, 1.2);
        });

        // The draws depend on (seed, epoch, sample) only.
        Assert.Equal(translation.TransformOf(4, 7), translation.TransformOf(4, 7));
        Assert.NotEqual(translation.TransformOf(4, 7), translation.TransformOf(5, 7));
    }

    [Fact]
    public void FactorOutsideMinusOneToOne_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomZoom(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomTranslation((0.1, double.NaN), 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Fit_WithAugmentation_BitIdenticalForAnyThreadCount_AndOnTrainingBatchesOnly(int threads)
    {
        var c = Catalog.Get(nameof(SmallConvNet));
        var data = RandomData(c.Reference, 90, seed: 8);
        var validation = RandomData(c.Reference, 20, seed: 9);
        (float[] Parameters, TrainingHistory History) Train(int t, ImageAugmentation? augmentation)
        {
            var network = c.Create(12);
            var history = Trainer.Fit(network, data, new FitOptions
            {
                Epochs = 2, BatchSize = 16, Seed = 5, Threads = t, Validation = validation, Augmentation = augmentation,
                Progress = new ProgressReporter(TextWriter.Null, live: false),
            });
            var evaluation = Trainer.Evaluate(network, validation, threads: 1);
            // Validation is never augmented: the last epoch's val_loss is the plain evaluation of the final weights.
            Assert.Equal(evaluation.Loss, history.ValLoss[^1], 12);
            return (network.Parameters, history);
        }

        var two = Train(2, ImageAugmentation.Default());
        Assert.Equal(two.Parameters, Train(threads, ImageAugmentation.Default()).Parameters);
        Assert.NotEqual(Train(2, null).Parameters, two.Parameters); // the augmentation was applied
        Assert.NotEqual(two.Parameters, Train(2, new ImageAugmentation(new RandomRotation(0.05)) { Seed = 77 }).Parameters);
    }

    [Fact]
    public void Fit_WithAugmentation_OnAVectorInput_IsRefused()
    {
        var c = Catalog.Get(nameof(MlpAllActivations));
        var network = c.Create(1);
        var error = Assert.Throws<ArgumentException>(() => Trainer.Fit(network, RandomData(c.Reference, 4, seed: 1), new FitOptions
        {
            Augmentation = ImageAugmentation.Default(), Progress = new ProgressReporter(TextWriter.Null, live: false),
        }));
        Assert.Contains("Augmentation transforms images", error.Message);
    }

    private static Dataset RandomData(Reference.ReferenceNetwork reference, int count, int seed)
    {
        var random = new Random(seed);
        var samples = Enumerable.Range(0, count).Select(_ => RandomSample(reference, random)).ToArray();
        return new Dataset(samples.SelectMany(s => s.Input).ToArray(), samples.Select(s => s.Label).ToArray(), samples[0].Input.Length);
    }
}

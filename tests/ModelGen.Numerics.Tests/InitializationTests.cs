using ModelGen.Numerics.Tests.Models;

namespace ModelGen.Numerics.Tests;

/// <summary>Keras's default initialisation: Glorot-uniform kernels, zero biases, reproducible from the seed.</summary>
public class InitializationTests
{
    /// <summary>Fans as Keras computes them: Conv2D [kh, kw, in, out] -> (kh·kw·in, kh·kw·out); Dense [in, out] -> (in, out).</summary>
    private static (int FanIn, int FanOut) Fans(int[] shape) =>
        shape.Length == 4 ? (shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]) : (shape[0], shape[1]);

    public static TheoryData<string, int> Networks() => new()
    {
        { nameof(LeNet5), 42 },
        { nameof(LeNet5Valid), 7 },
        { nameof(ConvLargeKernelChain), 3 },
        { nameof(Mlp784), 1 },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Kernels_AreGlorotUniformWithinTheKerasBound(string model, int seed)
    {
        var c = Catalog.Get(model);
        var network = c.Create(seed);
        foreach (var view in c.Description.ParameterViews.Where(v => v.Name.EndsWith("/kernel", StringComparison.Ordinal)))
        {
            var (fanIn, fanOut) = Fans(view.Shape);
            var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
            var w = view.Of(network.Parameters).ToArray();
            var n = w.Length;

            // The bound, up to the float rounding of the bound itself.
            var largest = w.Max(v => Math.Abs((double)v));
            Assert.True(largest <= limit * (1 + 1e-6), $"{model} {view.Name}: |w| reaches {largest}, above the Glorot limit {limit}");
            // ... and reached: the largest of n uniform draws falls short of the limit by more than 8/n with probability e^-8.
            Assert.True(largest >= limit * (1 - 8.0 / n), $"{model} {view.Name}: max |w| {largest} is far below the Glorot limit {limit} (wrong fans?)");

            // Mean 0 and variance limit²/3 of U(-limit, limit), within 6 standard errors.
            var mean = w.Average(v => (double)v);
            var variance = w.Average(v => ((double)v - mean) * ((double)v - mean));
            Assert.True(Math.Abs(mean) <= 6 * limit / Math.Sqrt(3.0 * n), $"{model} {view.Name}: mean {mean}");
            var expectedVariance = limit * limit / 3;
            Assert.True(Math.Abs(variance - expectedVariance) <= 6 * limit * limit * Math.Sqrt(4.0 / 45 / n),
                $"{model} {view.Name}: variance {variance}, expected {expectedVariance}");

            // Uniform, not just the right variance: ten equal bins each hold a tenth of the draws (6 standard errors).
            if (n >= 2000)
            {
                var bins = new int[10];
                foreach (var v in w) bins[Math.Min(9, (int)((v / limit + 1) / 2 * 10))]++;
                var sd = Math.Sqrt(n * 0.1 * 0.9);
                Assert.All(bins, b => Assert.InRange(b, n * 0.1 - 6 * sd, n * 0.1 + 6 * sd));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Biases_AreZero(string model, int seed)
    {
        var c = Catalog.Get(model);
        var network = c.Create(seed);
        foreach (var view in c.Description.ParameterViews.Where(v => v.Name.EndsWith("/bias", StringComparison.Ordinal)))
        {
            Assert.All(view.Of(network.Parameters).ToArray(), b => Assert.Equal(0f, b));
        }
    }

    [Fact]
    public void SameSeed_SameWeights_DifferentSeed_DifferentWeights()
    {
        var a = new LeNet5(seed: 42);
        Assert.Equal(a.Parameters, new LeNet5(seed: 42).Parameters);
        var b = new LeNet5(seed: 43);
        foreach (var view in LeNet5.ModelDescription.ParameterViews.Where(v => v.Name.EndsWith("/kernel", StringComparison.Ordinal)))
        {
            var x = view.Of(a.Parameters).ToArray();
            var y = view.Of(b.Parameters).ToArray();
            // Independent draws: hardly any entry may coincide.
            Assert.True(x.Zip(y).Count(p => p.First == p.Second) <= x.Length / 100, $"{view.Name} barely changed with the seed");
        }
    }

    [Fact]
    public void Initialize_AfterTraining_RestoresTheSeededWeights()
    {
        var network = new SmallConvNet(seed: 9);
        var expected = (float[])network.Parameters.Clone();
        for (var i = 0; i < network.Parameters.Length; i++) network.Parameters[i] += 0.5f;
        network.Initialize(9);
        Assert.Equal(expected, network.Parameters);
    }

    [Fact]
    public void NoSeed_GivesDifferentWeightsEachTime()
    {
        Assert.NotEqual(new SmallConvNet().Parameters, new SmallConvNet().Parameters);
    }
}

using System.Globalization;
using System.Text;

namespace ModelGen.Numerics.Tests.Reference;

/// <summary>Seeded test data and the comparison rules shared by the numeric tests.</summary>
internal static class Numerics
{
    /// <summary>
    /// Forward rule: |actual - expected| ≤ ForwardTolerance · (1 + |expected|), i.e. 1e-5 absolute plus 1e-5 relative.
    /// The generated code runs in float32 (unit round-off 6e-8) with sums of at most a few hundred products per output,
    /// a fast tanh accurate to 1e-7 and vectorized exp; the reference runs in double. Observed differences are ~1e-7,
    /// (at most 9e-7 measured), while any indexing, padding or layout mistake moves outputs by O(0.01..1).
    /// </summary>
    public const double ForwardTolerance = 1e-5;

    /// <summary>
    /// Step of the central differences: h = FiniteDifferenceStep · max(1, |w|). In double precision the round-off of
    /// (L(w+h) - L(w-h)) / 2h is about 1e-16·|L| / h ≈ 1e-11 and the truncation error h²·|L'''| / 6 ≈ 1e-11, so the
    /// finite difference is exact to far below the float32 error of the generated gradient that it is compared with. A small
    /// step also keeps [w - h, w + h] clear of ReLU kinks and max-pool switches (checked: <see cref="KinkCrossedException"/>).
    /// </summary>
    public const double FiniteDifferenceStep = 1e-5;

    /// <summary>
    /// Gradient rule: |g - fd| ≤ GradientAbsolute · max(1, ‖fd‖∞) + GradientRelative · |fd|. The generated gradient is a
    /// float32 backward pass through a float32 forward pass: each entry is a sum of up to a few thousand float products
    /// whose terms are bounded by the largest gradient, so its error is ~√N·6e-8·‖fd‖∞ ≲ 1e-5·‖fd‖∞ plus a relative 1e-6
    /// per layer; the double finite difference adds ≲ 1e-9. A wrong index, a missing tap, a wrong activation derivative or a
    /// gradient overwritten instead of accumulated changes entries by a sizeable fraction of the gradient itself (≫ 1e-3).
    /// Measured on the test networks: at most 6e-7 absolute, i.e. under 1/30 of the allowance.
    /// </summary>
    public const double GradientAbsolute = 2e-5;

    /// <inheritdoc cref="GradientAbsolute"/>
    public const double GradientRelative = 2e-4;

    /// <summary>
    /// Smallest distance from a ReLU kink or max-pool tie accepted in test data: float32 activations differ from the double
    /// reference by ~1e-6, so a decision closer than this could be taken differently by the two and is redrawn instead.
    /// </summary>
    public const double DecisionMargin = 2e-5;

    /// <summary>
    /// Fills the network's parameters with seeded random values (kernels uniform within the Glorot bound of the reference's
    /// own fan-in/fan-out, biases uniform in ±0.3, so biases are exercised) and returns them as doubles.
    /// </summary>
    public static double[] RandomizeParameters(INetwork network, ReferenceNetwork reference, int seed)
    {
        var random = new Random(seed);
        var p = network.Parameters;
        Assert.Equal(reference.ParameterCount, p.Length);
        foreach (var layer in reference.Layers.Where(l => l.HasParameters))
        {
            if (layer.Kind == RefKind.BatchNormalization)
            {
                // Away from the initial 1, 0, 0, 1, so every statistic and both modes are exercised.
                for (var c = 0; c < layer.In.C; c++)
                {
                    p[layer.GammaOffset + c] = (float)(0.5 + random.NextDouble());
                    p[layer.BetaOffset + c] = (float)((2 * random.NextDouble() - 1) * 0.3);
                    p[reference.MovingMeanOffset(layer) + c] = (float)((2 * random.NextDouble() - 1) * 0.5);
                    p[reference.MovingVarianceOffset(layer) + c] = (float)(0.5 + 1.5 * random.NextDouble());
                }

                continue;
            }

            var (fanIn, fanOut) = layer.Kind == RefKind.Conv2D
                ? (layer.K * layer.K * layer.In.C, layer.K * layer.K * layer.Size)
                : (layer.In.C, layer.Size);
            var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
            for (var i = 0; i < layer.KernelLength; i++) p[layer.KernelOffset + i] = (float)((2 * random.NextDouble() - 1) * limit);
            for (var i = 0; i < layer.BiasLength; i++) p[layer.BiasOffset + i] = (float)((2 * random.NextDouble() - 1) * 0.3);
        }

        return ToDouble(p);
    }

    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    /// <summary>A random sample: inputs uniform in [-1, 1], a random label below the output length.</summary>
    public static (float[] Input, int Label) RandomSample(ReferenceNetwork reference, Random random)
    {
        var x = new float[reference.Input.Length];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(2 * random.NextDouble() - 1);
        return (x, random.Next(reference.Output.Length));
    }

    /// <summary>
    /// The training pass ComputeGradients runs: the whole batch at once, with the dropout masks of seed 0, epoch 0, step 0.
    /// For networks without BatchNormalization or Dropout it computes what the inference pass computes.
    /// </summary>
    public static readonly RefTraining ComputeGradientsPass = new(ReferenceDropout.PassKey(0, 0, 0));

    /// <summary>
    /// Draws parameters and <paramref name="count"/> samples for which every ReLU and max-pool decision is at least
    /// <see cref="DecisionMargin"/> from flipping, and computes the reference finite-difference gradient of the summed loss
    /// there in training mode, as ComputeGradients computes it (redrawing when a finite-difference step crosses a decision).
    /// Deterministic for a given seed.
    /// </summary>
    public static SmoothPoint SmoothPoint(INetwork network, ReferenceNetwork reference, int seed, int count, IReadOnlyList<int>? indices = null)
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var random = new Random(seed * 1000 + attempt);
            var p = RandomizeParameters(network, reference, random.Next());
            var samples = Enumerable.Range(0, count).Select(_ => RandomSample(reference, random)).ToArray();
            var doubles = samples.Select(s => (Array.ConvertAll(s.Input, v => (double)v), s.Label)).ToArray();
            var trace = new Trace();
            reference.Loss(p, doubles, trace, ComputeGradientsPass);
            if (trace.Margin < DecisionMargin) continue;
            try
            {
                var fd = reference.FiniteDifferences(p, doubles, FiniteDifferenceStep, indices, ComputeGradientsPass);
                return new SmoothPoint(p, samples, fd, attempt);
            }
            catch (KinkCrossedException)
            {
            }
        }

        throw new InvalidOperationException("No smooth test point found in 40 draws; the test data generator needs attention.");
    }

    public static void AssertForwardClose(ReadOnlySpan<float> actual, double[] expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= ForwardTolerance * (1 + Math.Abs(expected[i]))))
            {
                Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: element {i} of {expected.Length} is {actual[i]:R}, the reference says {expected[i]:R} (|error| {error:E2} > {ForwardTolerance} (1 + |expected|))"));
            }
        }
    }

    public static void AssertScalarClose(double actual, double expected, string what)
    {
        var error = Math.Abs(actual - expected);
        Assert.True(error <= ForwardTolerance * (1 + Math.Abs(expected)),
            string.Create(CultureInfo.InvariantCulture, $"{what}: {actual:R}, the reference says {expected:R} (|error| {error:E2})"));
    }

    /// <summary>Largest gradient error relative to the tolerance of <see cref="GradientAbsolute"/>'s rule (≤ 1 passes).</summary>
    public static double GradientErrorRatio(ReadOnlySpan<float> actual, double[] expected, IEnumerable<int> indices, out int worst)
    {
        var scale = Math.Max(1.0, indices.Max(i => Math.Abs(expected[i])));
        var ratio = 0.0;
        worst = -1;
        foreach (var i in indices)
        {
            var allowed = GradientAbsolute * scale + GradientRelative * Math.Abs(expected[i]);
            var r = Math.Abs(actual[i] - expected[i]) / allowed;
            if (!(r <= ratio))
            {
                ratio = r;
                worst = i;
            }
        }

        return ratio;
    }

    public static void AssertGradientClose(ReadOnlySpan<float> actual, double[] expected, ReferenceNetwork reference, IReadOnlyList<int> indices, string what)
    {
        var ratio = GradientErrorRatio(actual, expected, indices, out _);
        if (ratio <= 1) return;

        // Name the worst few entries by their Keras parameter tensor, so a failure points at a layer.
        var scale = Math.Max(1.0, indices.Max(i => Math.Abs(expected[i])));
        var a = actual.ToArray();
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{what}: gradients differ from central finite differences of the double reference (max |fd| {scale:G4}); worst entries:"));
        foreach (var i in indices
            .OrderByDescending(i => Math.Abs(a[i] - expected[i]) / (GradientAbsolute * scale + GradientRelative * Math.Abs(expected[i])))
            .Take(8))
        {
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"\n  {Describe(reference, i)}: generated {a[i]:G7}, finite difference {expected[i]:G7}"));
        }

        Assert.Fail(text.ToString());
    }

    /// <summary>Parameter index as Keras tensor name and multi-index, e.g. <c>conv2d_1/kernel[2,0,3,1]</c>.</summary>
    public static string Describe(ReferenceNetwork reference, int index)
    {
        foreach (var (name, offset, shape) in reference.Views())
        {
            var length = shape.Aggregate(1, (x, y) => x * y);
            if (index < offset || index >= offset + length) continue;
            var rest = index - offset;
            var coordinates = new int[shape.Length];
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                coordinates[d] = rest % shape[d];
                rest /= shape[d];
            }

            return $"{name}[{string.Join(",", coordinates)}] (#{index})";
        }

        return $"#{index}";
    }
}

/// <summary>Parameters, samples and the finite-difference gradient of the summed loss at a point where the loss is smooth.</summary>
internal sealed record SmoothPoint(double[] Parameters, (float[] Input, int Label)[] Samples, double[] Gradient, int Attempt);

using System.Globalization;
using ModelGen.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.Numerics.Tests.Kernels;

/// <summary>Narrowing the vector width is process-wide, so the kernel tests run alone.</summary>
[CollectionDefinition(nameof(KernelCollection), DisableParallelization = true)]
public sealed class KernelCollection;

/// <summary>
/// The CPU kernels against plain double-precision loops written from the Keras definitions, for shapes that reach every
/// tiling path (tails, remainders, padding, strides, one-pixel outputs), for batches of 1 to 31 samples, on 1 and 3
/// threads, and with 512-, 256- and 128-bit vectors; thread counts change no bit, nor do vector widths (but for the
/// order in which overlapping convolution windows add up to an input gradient).
/// </summary>
[Collection(nameof(KernelCollection))]
public sealed class KernelTests
{
    public static TheoryData<int> Counts() => new([1, 2, 5, 13, 31]);

    // ------------------------------------------------------------------------------------------------ references

    private static float[] Random(Random r, long n, double scale = 1)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)((2 * r.NextDouble() - 1) * scale);
        return a;
    }

    /// <summary>Keras Conv2D: y[n, oy, ox, o] = b[o] + Σ x[n, oy·s − pt + ky, ox·s − pl + kx, c] · w[ky, kx, c, o] (zeros outside).</summary>
    private static (double[] Y, double[] DKernel, double[] DBias, double[] Dx) ConvReference<T>(
        int count, float[] x, float[] w, float[] b, float[] dz) where T : IConvShape
    {
        int h = T.InHeight, wd = T.InWidth, c = T.InChannels, oh = T.OutHeight, ow = T.OutWidth, o = T.OutChannels, k = T.KernelSize, s = T.Stride;
        var y = new double[count * oh * ow * o];
        var dk = new double[w.Length];
        var db = new double[o];
        var dx = new double[x.Length];
        for (var n = 0; n < count; n++)
        for (var oy = 0; oy < oh; oy++)
        for (var ox = 0; ox < ow; ox++)
        for (var oc = 0; oc < o; oc++)
        {
            var at = ((n * oh + oy) * ow + ox) * o + oc;
            double sum = b[oc];
            db[oc] += dz[at];
            for (var ky = 0; ky < k; ky++)
            for (var kx = 0; kx < k; kx++)
            {
                int iy = oy * s - T.PadTop + ky, ix = ox * s - T.PadLeft + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                for (var ci = 0; ci < c; ci++)
                {
                    var xi = ((n * h + iy) * wd + ix) * c + ci;
                    var wi = ((ky * k + kx) * c + ci) * o + oc;
                    sum += x[xi] * (double)w[wi];
                    dk[wi] += x[xi] * (double)dz[at];
                    dx[xi] += w[wi] * (double)dz[at];
                }
            }

            y[at] = Math.Tanh(sum);
        }

        return (y, dk, db, dx);
    }

    /// <summary>|actual − expected| ≤ 1e-5 · (1 + |expected| + the sum of the absolute terms), the float32 bound of such sums.</summary>
    private static void AssertClose(ReadOnlySpan<float> actual, double[] expected, double[]? magnitude, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var allowed = 1e-5 * (1 + Math.Abs(expected[i]) + (magnitude?[i] ?? 0));
            if (!(Math.Abs(actual[i] - expected[i]) <= allowed))
            {
                Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]: {actual[i]:R}, reference {expected[i]:R}"));
            }
        }
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what, string than)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]: {actual[i]:R}, but {expected[i]:R} with {than}"));
            }
        }
    }

    private sealed record ConvRun(float[] Y, float[] DKernel, float[] DBias, float[] Dx);

    /// <summary>Runs the kernels on buffers that start as NaN (a read of anything not written first would show).</summary>
    private static ConvRun RunConv<T>(int count, float[] x, float[] w, float[] b, float[] dz, int threads) where T : IConvShape
    {
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        var pass = new BatchPass(count, count, training: true, pool);
        var y = Filled(count * T.OutHeight * T.OutWidth * T.OutChannels);
        var scratch = Filled(Convolution.ScratchLength<T>(count));
        Convolution.Forward<T, Activations.Tanh>(pass, x, w, b, y, scratch);
        var dk = Filled(w.Length);
        var db = Filled(b.Length);
        var dx = Filled(x.Length);
        Convolution.Backward<T>(pass, x, w, dz, dk, db, dx, scratch);
        return new ConvRun(y, dk, db, dx);
    }

    private static float[] Filled(long length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }

    private static void CheckConv<T>(int count, string name) where T : IConvShape
    {
        var r = new Random(count * 31 + name.Length);
        var x = Random(r, (long)count * T.InHeight * T.InWidth * T.InChannels);
        var w = Random(r, T.KernelSize * T.KernelSize * T.InChannels * T.OutChannels, 0.5);
        var b = Random(r, T.OutChannels, 0.3);
        var dz = Random(r, (long)count * T.OutHeight * T.OutWidth * T.OutChannels);
        var (y, dk, db, dx) = ConvReference<T>(count, x, w, b, dz);
        var taps = T.KernelSize * T.KernelSize * T.InChannels;

        var widths = new[] { Simd.Lanes, 8, 4 }.Where(l => l <= Simd.Lanes).Distinct().ToArray();
        ConvRun? widest = null;
        foreach (var lanes in widths)
        {
            ConvRun? single = null;
            foreach (var threads in new[] { 1, 3 })
            {
                Simd.NarrowForTests(lanes);
                ConvRun run;
                try
                {
                    run = RunConv<T>(count, x, w, b, dz, threads);
                }
                finally
                {
                    Simd.NarrowForTests(null);
                }

                var what = $"{name}, {count} samples, {lanes} lanes, {threads} threads";
                AssertClose(run.Y, y, Enumerable.Repeat((double)taps, y.Length).ToArray(), $"{what}: y");
                AssertClose(run.DKernel, dk, Enumerable.Repeat((double)count * T.OutHeight * T.OutWidth, dk.Length).ToArray(), $"{what}: dKernel");
                AssertClose(run.DBias, db, Enumerable.Repeat((double)count * T.OutHeight * T.OutWidth, db.Length).ToArray(), $"{what}: dBias");
                AssertClose(run.Dx, dx, Enumerable.Repeat((double)taps * T.OutChannels, dx.Length).ToArray(), $"{what}: dx");

                // The number of threads never changes a bit.
                if (single is null) single = run;
                else AssertSameBits(single, run, what, "one thread", input: true);

                // Nor does the vector width, but for the order in which overlapping windows add up to an input gradient,
                // which follows how many vectors of kernel taps one tile holds.
                if (widest is null) widest = run;
                else AssertSameBits(widest, run, what, "the widest vectors", input: false);
            }
        }
    }

    private static void AssertSameBits(ConvRun expected, ConvRun actual, string what, string than, bool input)
    {
        AssertSameBits(expected.Y, actual.Y, $"{what}: y", than);
        AssertSameBits(expected.DKernel, actual.DKernel, $"{what}: dKernel", than);
        AssertSameBits(expected.DBias, actual.DBias, $"{what}: dBias", than);
        if (input) AssertSameBits(expected.Dx, actual.Dx, $"{what}: dx", than);
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Convolution_EveryShape_MatchesReferenceOnEveryWidthAndThreadCount(int count)
    {
        CheckConv<LeNetFirst>(count, nameof(LeNetFirst));
        CheckConv<LeNetSecond>(count, nameof(LeNetSecond));
        CheckConv<SameStride2>(count, nameof(SameStride2));
        CheckConv<OneChannelStride2>(count, nameof(OneChannelStride2));
        CheckConv<OneChannelEight>(count, nameof(OneChannelEight));
        CheckConv<OneChannelTwo>(count, nameof(OneChannelTwo));
        CheckConv<OneChannelSeven>(count, nameof(OneChannelSeven));
        CheckConv<SameEven>(count, nameof(SameEven));
        CheckConv<ValidStride3>(count, nameof(ValidStride3));
        CheckConv<OnePixel>(count, nameof(OnePixel));
        CheckConv<WideRows>(count, nameof(WideRows));
        CheckConv<PaddedPixel>(count, nameof(PaddedPixel));
    }

    [Fact]
    public void Interleaving_RunsTheForwardPassOfSingleChannelLayersWithFewFilters()
    {
        // Interleaved: one input channel, stride 1, and 2 × filters ≤ lanes (the channel path would idle half the lanes).
        Assert.True(Convolution.Interleaving<LeNetFirst>.Applies(16));
        Assert.False(Convolution.Interleaving<LeNetFirst>.Applies(8));
        Assert.True(Convolution.Interleaving<OneChannelEight>.Applies(16));
        Assert.False(Convolution.Interleaving<OneChannelEight>.Applies(8));
        Assert.True(Convolution.Interleaving<OneChannelTwo>.Applies(4));
        Assert.True(Convolution.Interleaving<OneChannelSeven>.Applies(16));
        Assert.False(Convolution.Interleaving<OneChannelStride2>.Applies(16));
        Assert.False(Convolution.Interleaving<LeNetSecond>.Applies(16));
        Assert.False(Convolution.Interleaving<DenseAsConvolution<Dense7>>.Applies(16));

        // The channels over lanes repeat every filters / gcd(filters, lanes) vectors; a tile holds whole repeats.
        Assert.Equal(3, Convolution.Interleaving<LeNetFirst>.Period(16));
        Assert.Equal(1, Convolution.Interleaving<OneChannelEight>.Period(16));
        Assert.Equal(7, Convolution.Interleaving<OneChannelSeven>.Period(16));
        Assert.Equal(0, Convolution.Interleaving<OneChannelSeven>.Slots(16) % 7);
        Assert.Equal(12, Convolution.Interleaving<LeNetFirst>.Slots(16)); // 28 pixels x 6 channels = 10.5 vectors: one tile
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Dense_EveryShape_MatchesReferenceOnEveryWidthAndThreadCount(int count)
    {
        // A dense layer is the 1 × 1 convolution of a 1 × 1 image: the same kernels, and the same reference.
        CheckConv<DenseAsConvolution<Dense784>>(count, nameof(Dense784));
        CheckConv<DenseAsConvolution<Dense7>>(count, nameof(Dense7));
        CheckConv<DenseAsConvolution<Dense50>>(count, nameof(Dense50));
        CheckConv<DenseAsConvolution<Dense100>>(count, nameof(Dense100));
    }

    [Fact]
    public void ConvolutionBackward_WithoutInputGradient_LeavesNoDxAndSameKernelGradient()
    {
        var r = new Random(4);
        const int count = 3;
        var x = Random(r, count * 28 * 28);
        var w = Random(r, 150, 0.5);
        var b = Random(r, 6, 0.3);
        var dz = Random(r, count * 28 * 28 * 6);
        var pass = new BatchPass(count, count, training: true, pool: null);
        var scratch = new float[Convolution.ScratchLength<LeNetFirst>(count)];
        var with = (new float[150], new float[6], new float[x.Length]);
        Convolution.Backward<LeNetFirst>(pass, x, w, dz, with.Item1, with.Item2, with.Item3, scratch);
        var without = (new float[150], new float[6]);
        Convolution.Backward<LeNetFirst>(pass, x, w, dz, without.Item1, without.Item2, default, scratch);
        Assert.Equal(with.Item1, without.Item1);
        Assert.Equal(with.Item2, without.Item2);
    }

    // ------------------------------------------------------------------------------------------------ pooling

    private static (double[] Max, double[] Avg, double[] MaxDx, double[] AvgDx) PoolReference<T>(int count, float[] x, float[] dy) where T : IPoolShape
    {
        int w = T.InWidth, c = T.Channels, oh = T.OutHeight, ow = T.OutWidth, p = T.PoolSize, s = T.Stride, h = T.InHeight;
        var max = new double[count * oh * ow * c];
        var avg = new double[max.Length];
        var maxDx = new double[x.Length];
        var avgDx = new double[x.Length];
        for (var n = 0; n < count; n++)
        for (var oy = 0; oy < oh; oy++)
        for (var ox = 0; ox < ow; ox++)
        for (var ch = 0; ch < c; ch++)
        {
            var at = ((n * oh + oy) * ow + ox) * c + ch;
            var best = -1;
            double sum = 0;
            for (var wy = 0; wy < p; wy++)
            for (var wx = 0; wx < p; wx++)
            {
                var xi = ((n * h + oy * s + wy) * w + ox * s + wx) * c + ch;
                sum += x[xi];
                if (best < 0 || x[xi] > x[best]) best = xi; // the first maximum, row by row (TensorFlow's choice)
                avgDx[xi] += dy[at] / (double)(p * p);
            }

            max[at] = x[best];
            avg[at] = sum / (p * p);
            maxDx[best] += dy[at];
        }

        return (max, avg, maxDx, avgDx);
    }

    private static void CheckPool<T>(int count, string name) where T : IPoolShape
    {
        var r = new Random(count * 7 + name.Length);
        // Values on a coarse grid, so that windows hold ties and the first-maximum rule decides.
        var x = Random(r, (long)count * T.InHeight * T.InWidth * T.Channels).Select(v => MathF.Round(v * 3) / 3).ToArray();
        var dy = Random(r, (long)count * T.OutHeight * T.OutWidth * T.Channels);
        var (max, avg, maxDx, avgDx) = PoolReference<T>(count, x, dy);
        foreach (var lanes in new[] { Simd.Lanes, 8, 4 }.Where(l => l <= Simd.Lanes).Distinct())
        {
            Simd.NarrowForTests(lanes);
            try
            {
                using var pool = new WorkerPool(3);
                var pass = new BatchPass(count, count, training: true, pool);
                var y = Filled(max.Length);
                Pooling.MaxForward<T>(pass, x, y);
                AssertClose(y, max, null, $"{name} max, {lanes} lanes");
                Pooling.AverageForward<T>(pass, x, y);
                AssertClose(y, avg, null, $"{name} average, {lanes} lanes");
                var dx = Filled(x.Length);
                Pooling.MaxBackward<T, Activations.Linear>(pass, x, dy, dx);
                AssertClose(dx, maxDx, null, $"{name} max backward, {lanes} lanes");
                Pooling.AverageBackward<T, Activations.Linear>(pass, default, dy, dx);
                AssertClose(dx, avgDx, null, $"{name} average backward, {lanes} lanes");

                // With the previous layer's activation folded in: the same bits as pooling, then Activations.Backward.
                CheckFused<T, Activations.Tanh>(pass, x, dy, $"{name}, tanh, {lanes} lanes");
                CheckFused<T, Activations.Relu>(pass, x, dy, $"{name}, relu, {lanes} lanes");
                CheckFused<T, Activations.Sigmoid>(pass, x, dy, $"{name}, sigmoid, {lanes} lanes");
            }
            finally
            {
                Simd.NarrowForTests(null);
            }
        }
    }

    private static void CheckFused<T, TActivation>(in BatchPass pass, float[] x, float[] dy, string what)
        where T : IPoolShape where TActivation : IActivationFunction
    {
        var length = T.InHeight * T.InWidth * T.Channels;
        foreach (var max in new[] { true, false })
        {
            var separate = Filled(x.Length);
            var fused = Filled(x.Length);
            if (max)
            {
                Pooling.MaxBackward<T, Activations.Linear>(pass, x, dy, separate);
                Pooling.MaxBackward<T, TActivation>(pass, x, dy, fused);
            }
            else
            {
                Pooling.AverageBackward<T, Activations.Linear>(pass, default, dy, separate);
                Pooling.AverageBackward<T, TActivation>(pass, x, dy, fused);
            }

            Activations.Backward<TActivation>(pass, x, separate, length);
            AssertSameBits(separate, fused, $"{what}, {(max ? "max" : "average")} backward", "the activation's own pass");
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Pooling_EveryShape_MatchesReferenceWithTiesOnEveryWidth(int count)
    {
        CheckPool<Pool2>(count, nameof(Pool2));
        CheckPool<Pool3Stride2>(count, nameof(Pool3Stride2));
        CheckPool<PoolWhole>(count, nameof(PoolWhole));
    }

    // ------------------------------------------------------------------------------------------------ activations

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Sigmoid)]
    public void ActivationBackward_EveryWidth_MultipliesByTheDerivativeThroughTheOutput(Activation activation)
    {
        var r = new Random(11);
        const int count = 5, length = 37;
        var pre = Random(r, count * length, 3);
        var y = pre.Select(v => Activations.Apply(activation, v)).ToArray();
        var dy = Random(r, count * length);
        var expected = dy.Select((g, i) => (double)g * Activations.DerivativeFromOutput(activation, y[i])).ToArray();
        foreach (var lanes in new[] { Simd.Lanes, 8, 4 }.Where(l => l <= Simd.Lanes).Distinct())
        {
            Simd.NarrowForTests(lanes);
            try
            {
                var gradient = (float[])dy.Clone();
                var pass = new BatchPass(count, count, training: true, pool: null);
                switch (activation)
                {
                    case Activation.Tanh: Activations.Backward<Activations.Tanh>(pass, y, gradient, length); break;
                    case Activation.Relu: Activations.Backward<Activations.Relu>(pass, y, gradient, length); break;
                    default: Activations.Backward<Activations.Sigmoid>(pass, y, gradient, length); break;
                }

                AssertClose(gradient, expected, null, $"{activation} backward, {lanes} lanes");
            }
            finally
            {
                Simd.NarrowForTests(null);
            }
        }
    }

    [Fact]
    public void TanhOf_FineGrid_WithinItsErrorBoundOfTanh()
    {
        for (var x = -10.0; x <= 10.0; x += 1e-3)
        {
            var error = Math.Abs(Activations.TanhOf((float)x) - Math.Tanh((float)x));
            Assert.True(error < 4e-7, string.Create(CultureInfo.InvariantCulture, $"tanh({x}) off by {error:E2}"));
            // Near 0 the approximation is relatively accurate too (the GPU's old 1 - 2/(e^2x + 1) was not).
            if (Math.Abs(x) is > 1e-4 and < 1e-2) Assert.True(error / Math.Abs(Math.Tanh(x)) < 1e-5, $"relative error at {x}");
        }
    }
}

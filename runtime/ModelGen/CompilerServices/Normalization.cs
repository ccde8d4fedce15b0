using System.ComponentModel;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>The constant shape and settings of one BatchNormalization layer (for generated code only).</summary>
/// <remarks>Channels last: a channel's statistics are taken over every pixel of every sample of the pass (one pixel per sample after a Dense layer).</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface INormalizationShape
{
    /// <summary>Pixels per sample (height × width; 1 for a vector input).</summary>
    static abstract int Pixels { get; }

    /// <summary>Channels (or units of a vector input): one gamma, beta, moving mean and moving variance each.</summary>
    static abstract int Channels { get; }

    /// <summary>Added to the variance before its square root.</summary>
    static abstract float Epsilon { get; }

    /// <summary>Weight of the old moving statistics in their update.</summary>
    static abstract float Momentum { get; }

    /// <summary>Weight of the batch's statistics in the update: 1 − momentum computed in double and rounded once, as Keras computes <c>1.0 - momentum</c>.</summary>
    static abstract float OneMinusMomentum { get; }
}

/// <summary>
/// BatchNormalization on the CPU, batch-major and channels last (for generated code only), with Keras 3's semantics:
/// training normalises with the pass's mean and biased variance and its backward pass goes through both; inference
/// normalises with the moving statistics; <see cref="UpdateMovingStatistics{TShape}"/> moves those toward the last
/// training pass's statistics.
/// </summary>
/// <remarks>
/// <para>
/// The statistics are reduced in a fixed order, so the results do not depend on the threads: each sample's sums over its
/// pixels (float, one vector lane per channel, pixels in order: the same at every vector width), then the samples' sums
/// added in sample order in double. The variance is taken around the mean (a second pass), not as E[x²] − E[x]².
/// </para>
/// <para>
/// A layer keeps <see cref="StatisticsPerChannel"/> floats per channel for the pass (its <c>stats</c> buffer, rows of
/// <c>Channels</c>): the batch mean, the biased batch variance, 1/√(variance + ε), scale = γ/√(variance + ε), shift =
/// β − mean·scale, and the slope and offset of the input gradient. Forward is y = x·scale + shift. Its <c>sums</c>
/// buffer holds <see cref="SumsPerChannel"/> floats per channel and sample, the per-sample partial sums.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class Normalization
{
    /// <summary>Floats per channel of a layer's per-pass statistics buffer.</summary>
    public const int StatisticsPerChannel = 7;

    /// <summary>Floats per channel and sample of a layer's partial-sums buffer.</summary>
    public const int SumsPerChannel = 2;

    private const int MeanRow = 0, VarianceRow = 1, InverseStdRow = 2, ScaleRow = 3, ShiftRow = 4, SlopeRow = 5, OffsetRow = 6;

    /// <summary>
    /// Batch statistics beyond this (in magnitude) mark a diverged pass: the layer then outputs NaN, so the step fails as a
    /// non-finite loss and nothing is updated; below it the moving update can never overflow.
    /// </summary>
    private const double StatisticsLimit = float.MaxValue / 2.0;

    /// <summary>
    /// Training: y = γ·(x − mean)/√(var + ε) + β with the pass's per-channel mean and biased variance, which stay in
    /// <paramref name="statistics"/> for <see cref="Backward{TShape}"/> and <see cref="UpdateMovingStatistics{TShape}"/>.
    /// </summary>
    /// <param name="pass">The batch: its statistics are those of all of its samples.</param>
    /// <param name="x">Input, [count, Pixels, Channels].</param>
    /// <param name="gamma">[Channels].</param>
    /// <param name="beta">[Channels].</param>
    /// <param name="sums">Partial sums, [count, 2, Channels].</param>
    /// <param name="statistics">The layer's statistics, [7, Channels].</param>
    /// <param name="y">Output, [count, Pixels, Channels].</param>
    public static void TrainingForward<TShape>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> sums, Span<float> statistics, Span<float> y)
        where TShape : INormalizationShape
    {
        var count = pass.Count;
        var c = TShape.Channels;
        if (x.Length < Values<TShape>(count) || y.Length < Values<TShape>(count) || gamma.Length < c || beta.Length < c
            || sums.Length < (long)count * SumsPerChannel * c || statistics.Length < StatisticsPerChannel * c)
        {
            throw Kernels.TooShort(nameof(TrainingForward));
        }

        var values = (double)count * TShape.Pixels;
        fixed (float* xp = x)
        fixed (float* sp = sums)
        fixed (float* stats = statistics)
        fixed (float* yp = y)
        {
            // The mean: per-sample sums, then in sample order.
            var sum = new SumJob<TShape> { X = xp, Sums = sp, Mean = null };
            pass.Run(count, ref sum);
            for (var ch = 0; ch < c; ch++) stats[MeanRow * c + ch] = (float)(SampleSum(sp, count, c, ch) / values);

            // The biased variance around it: E[(x − mean)²].
            var squares = new SumJob<TShape> { X = xp, Sums = sp, Mean = stats + MeanRow * c };
            pass.Run(count, ref squares);
            for (var ch = 0; ch < c; ch++)
            {
                var mean = stats[MeanRow * c + ch];
                var variance = SampleSum(sp, count, c, c + ch) / values;
                stats[VarianceRow * c + ch] = (float)variance;
                var diverged = !(Math.Abs(mean) <= StatisticsLimit && variance <= StatisticsLimit);
                SetAffine(stats, c, ch, gamma[ch], beta[ch], mean, diverged ? float.NaN : stats[VarianceRow * c + ch], TShape.Epsilon);
            }

            var affine = new AffineJob<TShape> { X = xp, Y = yp, Statistics = stats };
            pass.Run(count, ref affine);
        }
    }

    /// <summary>Inference: y = γ·(x − moving_mean)/√(moving_variance + ε) + β (scale and shift go to <paramref name="statistics"/>).</summary>
    public static void InferenceForward<TShape>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> statistics, Span<float> y)
        where TShape : INormalizationShape
    {
        var count = pass.Count;
        var c = TShape.Channels;
        if (x.Length < Values<TShape>(count) || y.Length < Values<TShape>(count) || gamma.Length < c || beta.Length < c
            || movingMean.Length < c || movingVariance.Length < c || statistics.Length < StatisticsPerChannel * c)
        {
            throw Kernels.TooShort(nameof(InferenceForward));
        }

        fixed (float* xp = x)
        fixed (float* stats = statistics)
        fixed (float* yp = y)
        {
            for (var ch = 0; ch < c; ch++) SetAffine(stats, c, ch, gamma[ch], beta[ch], movingMean[ch], movingVariance[ch], TShape.Epsilon);
            var affine = new AffineJob<TShape> { X = xp, Y = yp, Statistics = stats };
            pass.Run(count, ref affine);
        }
    }

    /// <summary>scale = γ/√(var + ε) and shift = β − mean·scale of one channel, in float (the GPU kernels compute the same).</summary>
    private static void SetAffine(float* stats, int c, int ch, float gamma, float beta, float mean, float variance, float epsilon)
    {
        var inverse = InverseStd(variance, epsilon);
        var scale = gamma * inverse;
        stats[InverseStdRow * c + ch] = inverse;
        stats[ScaleRow * c + ch] = scale;
        stats[ShiftRow * c + ch] = beta - mean * scale;
    }

    /// <summary>1/√(variance + ε) in float: what the CPU and GPU kernels both normalise with.</summary>
    public static float InverseStd(float variance, float epsilon) => 1f / MathF.Sqrt(variance + epsilon);

    /// <summary>
    /// Backward of a training pass, through the batch statistics: dβ = Σ dy, dγ = Σ dy·x̂ (written, not added) and, unless
    /// <paramref name="dx"/> is empty, dx = scale·(dy − mean(dy) − x̂·mean(dy·x̂)) with x̂ = (x − mean)/√(var + ε).
    /// </summary>
    /// <param name="pass">The batch of the training forward pass that left <paramref name="statistics"/>.</param>
    /// <param name="x">The forward pass's input, [count, Pixels, Channels].</param>
    /// <param name="dy">d(loss)/d(y), [count, Pixels, Channels].</param>
    /// <param name="statistics">The layer's statistics from the forward pass; the input gradient's slope and offset are added.</param>
    /// <param name="sums">Partial sums, [count, 2, Channels].</param>
    /// <param name="dGamma">Receives d(loss)/d(gamma).</param>
    /// <param name="dBeta">Receives d(loss)/d(beta).</param>
    /// <param name="dx">Receives d(loss)/d(x); empty when not needed.</param>
    public static void Backward<TShape>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> statistics, Span<float> sums,
        Span<float> dGamma, Span<float> dBeta, Span<float> dx)
        where TShape : INormalizationShape
    {
        var count = pass.Count;
        var c = TShape.Channels;
        if (x.Length < Values<TShape>(count) || dy.Length < Values<TShape>(count) || statistics.Length < StatisticsPerChannel * c
            || sums.Length < (long)count * SumsPerChannel * c || dGamma.Length < c || dBeta.Length < c
            || (!dx.IsEmpty && dx.Length < Values<TShape>(count)))
        {
            throw Kernels.TooShort(nameof(Backward));
        }

        var values = (double)count * TShape.Pixels;
        fixed (float* xp = x)
        fixed (float* dyp = dy)
        fixed (float* stats = statistics)
        fixed (float* sp = sums)
        fixed (float* dxp = dx)
        {
            var gradientSums = new GradientSumJob<TShape> { X = xp, Dy = dyp, Sums = sp, Mean = stats + MeanRow * c };
            pass.Run(count, ref gradientSums);
            for (var ch = 0; ch < c; ch++)
            {
                var sumDy = SampleSum(sp, count, c, ch);
                var sumDyCentered = SampleSum(sp, count, c, c + ch); // Σ dy·(x − mean) = dγ·√(var + ε)
                var inverse = (double)stats[InverseStdRow * c + ch];
                var scale = (double)stats[ScaleRow * c + ch];
                dBeta[ch] = (float)sumDy;
                dGamma[ch] = (float)(sumDyCentered * inverse);
                // dx = scale·dy + slope·(x − mean) + offset
                stats[SlopeRow * c + ch] = (float)(-scale * inverse * inverse * sumDyCentered / values);
                stats[OffsetRow * c + ch] = (float)(-scale * sumDy / values);
            }

            if (dx.IsEmpty) return;
            var input = new InputGradientJob<TShape> { X = xp, Dy = dyp, Dx = dxp, Statistics = stats };
            pass.Run(count, ref input);
        }
    }

    /// <summary>
    /// After a training pass whose update was applied: moving = moving·momentum + batch·(1 − momentum), for the mean and
    /// the (biased) variance, in float as Keras 3 computes it (keras/src/layers/normalization/batch_normalization.py:
    /// <c>moving_variance * momentum + variance * (1.0 - momentum)</c>, with the variance of <c>ops.moments</c>, which every
    /// backend computes without Bessel's correction).
    /// </summary>
    public static void UpdateMovingStatistics<TShape>(ReadOnlySpan<float> statistics, Span<float> movingMean, Span<float> movingVariance)
        where TShape : INormalizationShape
    {
        var c = TShape.Channels;
        if (statistics.Length < StatisticsPerChannel * c || movingMean.Length < c || movingVariance.Length < c)
        {
            throw Kernels.TooShort(nameof(UpdateMovingStatistics));
        }

        for (var ch = 0; ch < c; ch++)
        {
            movingMean[ch] = MovingAverage(movingMean[ch], statistics[MeanRow * c + ch], TShape.Momentum, TShape.OneMinusMomentum);
            movingVariance[ch] = MovingAverage(movingVariance[ch], statistics[VarianceRow * c + ch], TShape.Momentum, TShape.OneMinusMomentum);
        }
    }

    /// <summary>moving·momentum + batch·(1 − momentum), two float products and a sum (no fused multiply-add), as Keras computes it.</summary>
    public static float MovingAverage(float moving, float batch, float momentum, float oneMinusMomentum)
    {
        var kept = moving * momentum;
        var added = batch * oneMinusMomentum;
        return kept + added;
    }

    private static long Values<TShape>(int count) where TShape : INormalizationShape => (long)count * TShape.Pixels * TShape.Channels;

    /// <summary>Σ over the samples, in sample order and in double, of row <paramref name="index"/> of each sample's sums.</summary>
    private static double SampleSum(float* sums, int count, int channels, int index)
    {
        var total = 0.0;
        for (var n = 0; n < count; n++) total += sums[(long)n * SumsPerChannel * channels + index];
        return total;
    }

    /// <summary>Items: one sample. sums[n, 0, c] = Σ over pixels of x, or, with a mean, sums[n, 1, c] = Σ (x − mean)².</summary>
    private struct SumJob<TShape> : IParallelJob, IWidthGeneric where TShape : INormalizationShape
    {
        public float* X, Sums, Mean;
        private int _sample;

        public readonly void Execute(int item)
        {
            var local = this;
            local._sample = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            int c = TShape.Channels, pixels = TShape.Pixels;
            var x = X + (long)_sample * pixels * c;
            var target = Sums + (long)_sample * SumsPerChannel * c + (Mean is null ? 0 : c);
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                var total = TOps.Zero;
                if (Mean is null)
                {
                    for (var p = 0; p < pixels; p++) total = TOps.Add(total, TOps.LoadMasked(x + (long)p * c + ch, mask));
                }
                else
                {
                    var mean = TOps.LoadMasked(Mean + ch, mask);
                    for (var p = 0; p < pixels; p++)
                    {
                        var d = TOps.Subtract(TOps.LoadMasked(x + (long)p * c + ch, mask), mean);
                        total = TOps.MultiplyAdd(d, d, total);
                    }
                }

                TOps.StoreMasked(target + ch, total, mask);
            }
        }
    }

    /// <summary>Items: one sample. y = x·scale + shift per channel.</summary>
    private struct AffineJob<TShape> : IParallelJob, IWidthGeneric where TShape : INormalizationShape
    {
        public float* X, Y, Statistics;
        private int _sample;

        public readonly void Execute(int item)
        {
            var local = this;
            local._sample = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            int c = TShape.Channels, pixels = TShape.Pixels;
            var offset = (long)_sample * pixels * c;
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                var scale = TOps.LoadMasked(Statistics + ScaleRow * c + ch, mask);
                var shift = TOps.LoadMasked(Statistics + ShiftRow * c + ch, mask);
                var x = X + offset + ch;
                var y = Y + offset + ch;
                for (var p = 0; p < pixels; p++)
                {
                    TOps.StoreMasked(y + (long)p * c, TOps.MultiplyAdd(TOps.LoadMasked(x + (long)p * c, mask), scale, shift), mask);
                }
            }
        }
    }

    /// <summary>Items: one sample. sums[n, 0, c] = Σ dy and sums[n, 1, c] = Σ dy·(x − mean) over the sample's pixels.</summary>
    private struct GradientSumJob<TShape> : IParallelJob, IWidthGeneric where TShape : INormalizationShape
    {
        public float* X, Dy, Sums, Mean;
        private int _sample;

        public readonly void Execute(int item)
        {
            var local = this;
            local._sample = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            int c = TShape.Channels, pixels = TShape.Pixels;
            var offset = (long)_sample * pixels * c;
            var target = Sums + (long)_sample * SumsPerChannel * c;
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                var mean = TOps.LoadMasked(Mean + ch, mask);
                var x = X + offset + ch;
                var dy = Dy + offset + ch;
                TVec sumDy = TOps.Zero, sumDyCentered = TOps.Zero;
                for (var p = 0; p < pixels; p++)
                {
                    var g = TOps.LoadMasked(dy + (long)p * c, mask);
                    sumDy = TOps.Add(sumDy, g);
                    sumDyCentered = TOps.MultiplyAdd(g, TOps.Subtract(TOps.LoadMasked(x + (long)p * c, mask), mean), sumDyCentered);
                }

                TOps.StoreMasked(target + ch, sumDy, mask);
                TOps.StoreMasked(target + c + ch, sumDyCentered, mask);
            }
        }
    }

    /// <summary>Items: one sample. dx = scale·dy + slope·(x − mean) + offset per channel.</summary>
    private struct InputGradientJob<TShape> : IParallelJob, IWidthGeneric where TShape : INormalizationShape
    {
        public float* X, Dy, Dx, Statistics;
        private int _sample;

        public readonly void Execute(int item)
        {
            var local = this;
            local._sample = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            int c = TShape.Channels, pixels = TShape.Pixels;
            var offset = (long)_sample * pixels * c;
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                var mean = TOps.LoadMasked(Statistics + MeanRow * c + ch, mask);
                var scale = TOps.LoadMasked(Statistics + ScaleRow * c + ch, mask);
                var slope = TOps.LoadMasked(Statistics + SlopeRow * c + ch, mask);
                var shift = TOps.LoadMasked(Statistics + OffsetRow * c + ch, mask);
                var x = X + offset + ch;
                var dy = Dy + offset + ch;
                var dx = Dx + offset + ch;
                for (var p = 0; p < pixels; p++)
                {
                    var centered = TOps.Subtract(TOps.LoadMasked(x + (long)p * c, mask), mean);
                    var value = TOps.MultiplyAdd(scale, TOps.LoadMasked(dy + (long)p * c, mask), TOps.MultiplyAdd(slope, centered, shift));
                    TOps.StoreMasked(dx + (long)p * c, value, mask);
                }
            }
        }
    }
}

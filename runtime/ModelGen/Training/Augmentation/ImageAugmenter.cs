using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen;

/// <summary>
/// Applies an <see cref="ImageAugmentation"/> to samples of one image shape (height × width × channels, channels last):
/// draws a sample's transform from (seed, epoch, sample), composes its layers into one affine map, and resamples the
/// image once with TensorFlow's <c>ImageProjectiveTransformV3</c> rules (what Keras's <c>affine_transform</c> runs):
/// the fill mode maps each sampled coordinate, then bilinear (or nearest) interpolation reads the pixels around it,
/// with the fill value for pixels outside the image.
/// </summary>
/// <remarks>
/// The row loops are optimised from their first call (as the CPU kernels are): at tier 0 the vector code would run
/// many times slower through the first epoch. Stateless after construction, so the engine's threads call <see cref="Apply"/> at once on different samples. Rows are
/// computed eight pixels at a time with AVX2 (gathers for the pixel reads) and otherwise one pixel at a time; both paths
/// perform the same float operations in the same order, so the result does not depend on the machine.
/// </remarks>
internal sealed class ImageAugmenter
{
    private const int Lanes = 8;

    private readonly RandomTransform[] _layers;
    private readonly FillMode _fill;
    private readonly bool _bilinear;
    private readonly float _fillValue;
    private readonly int _seed;

    public ImageAugmenter(ImageAugmentation augmentation, int height, int width, int channels, int seed)
    {
        _layers = [.. augmentation.Layers];
        _fill = augmentation.FillMode;
        _bilinear = augmentation.Interpolation == Interpolation.Bilinear;
        _fillValue = augmentation.FillValue;
        _seed = seed;
        Height = height;
        Width = width;
        Channels = channels;
    }

    public int Height { get; }

    public int Width { get; }

    public int Channels { get; }

    /// <summary>Whether rows run eight pixels at a time (tests turn it off to compare with the one-pixel path).</summary>
    internal bool Vectorized { get; init; } = Avx2.IsSupported;

    /// <summary>Writes sample <paramref name="sample"/>'s augmented image for <paramref name="epoch"/> to <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int epoch, int sample) =>
        Resample(source, destination, TransformOf(epoch, sample));

    /// <summary>The composed map of sample <paramref name="sample"/> in <paramref name="epoch"/>.</summary>
    internal AffineMap TransformOf(int epoch, int sample)
    {
        var draws = new SampleDraws(_seed, epoch, sample);
        var map = AffineMap.Identity;
        foreach (var layer in _layers) layer.Compose(ref map, ref draws, Height, Width);
        return map;
    }

    /// <summary>Resamples <paramref name="source"/> through <paramref name="map"/> (output pixel → input coordinates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Resample(ReadOnlySpan<float> source, Span<float> destination, AffineMap map)
    {
        var c = new Coefficients(map);
        var vectorRows = Vectorized && Width >= Lanes;
        for (var y = 0; y < Height; y++)
        {
            if (vectorRows) VectorRow(source, destination, in c, y);
            else ScalarRow(source, destination, in c, y, 0, Width);
        }
    }

    /// <summary>The map's coefficients as the float arithmetic uses them.</summary>
    private readonly struct Coefficients(AffineMap map)
    {
        public readonly float A0 = (float)map.A0, A1 = (float)map.A1, A2 = (float)map.A2;
        public readonly float B0 = (float)map.B0, B1 = (float)map.B1, B2 = (float)map.B2;
    }

    // ------------------------------------------------------------------------------------------------ one pixel at a time

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScalarRow(ReadOnlySpan<float> source, Span<float> destination, in Coefficients k, int y, int from, int to)
    {
        var yF = (float)y;
        float rowX = k.A1 * yF, rowY = k.B1 * yF;
        for (var x = from; x < to; x++)
        {
            var xF = (float)x;
            var sx = MapCoordinate(k.A0 * xF + rowX + k.A2, Width);
            var sy = MapCoordinate(k.B0 * xF + rowY + k.B2, Height);
            var output = destination.Slice((y * Width + x) * Channels, Channels);
            for (var ch = 0; ch < Channels; ch++) output[ch] = Sample(source, sx, sy, ch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Sample(ReadOnlySpan<float> source, float x, float y, int channel)
    {
        if (!_bilinear) return Read(source, RoundAway(y), RoundAway(x), channel);
        float x0 = MathF.Floor(x), y0 = MathF.Floor(y), x1 = x0 + 1, y1 = y0 + 1;
        var top = (x1 - x) * Read(source, y0, x0, channel) + (x - x0) * Read(source, y0, x1, channel);
        var bottom = (x1 - x) * Read(source, y1, x0, channel) + (x - x0) * Read(source, y1, x1, channel);
        return (y1 - y) * top + (y - y0) * bottom;
    }

    /// <summary>The pixel at whole coordinates (<paramref name="y"/>, <paramref name="x"/>), or the fill value outside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Read(ReadOnlySpan<float> source, float y, float x, int channel) =>
        y >= 0 && y < Height && x >= 0 && x < Width ? source[((int)y * Width + (int)x) * Channels + channel] : _fillValue;

    /// <summary>std::round (halves away from zero), as TensorFlow's nearest interpolation rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RoundAway(float value)
    {
        var rounded = MathF.Floor(MathF.Abs(value) + 0.5f);
        return value < 0 ? -rounded : rounded;
    }

    /// <summary>TensorFlow's <c>MapCoordinate</c> for the fill mode: where a coordinate outside [0, length − 1] samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float MapCoordinate(float coordinate, int length)
    {
        float last = length - 1, length2 = 2f * length;
        switch (_fill)
        {
            case FillMode.Reflect:
                if (length <= 1) return 0;
                if (coordinate < 0)
                {
                    if (coordinate < length2) coordinate += length2 * MathF.Floor(-coordinate / length2);
                    coordinate = coordinate < -length ? coordinate + length2 : -coordinate - 1;
                }
                else if (coordinate > last)
                {
                    coordinate -= length2 * MathF.Floor(coordinate / length2);
                    if (coordinate >= length) coordinate = length2 - coordinate - 1;
                }

                return MathF.Min(MathF.Max(coordinate, 0), last);
            case FillMode.Wrap:
                if (length <= 1) return 0;
                if (coordinate < 0) coordinate += length * (MathF.Floor(-coordinate / last) + 1);
                else if (coordinate > last) coordinate -= length * MathF.Floor(coordinate / last);
                return MathF.Min(MathF.Max(coordinate, 0), last);
            case FillMode.Nearest:
                return MathF.Min(MathF.Max(coordinate, 0), last);
            default:
                // Constant: the coordinate stays; reads outside the image give the fill value. Bounded so that far-away
                // points stay outside without overflowing the index arithmetic.
                return MathF.Min(MathF.Max(coordinate, -2f), length + 1f);
        }
    }

    // ------------------------------------------------------------------------------------------------ eight pixels at a time

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void VectorRow(ReadOnlySpan<float> source, Span<float> destination, in Coefficients k, int y)
    {
        var yF = (float)y;
        var rowX = Vector256.Create(k.A1 * yF);
        var rowY = Vector256.Create(k.B1 * yF);
        var a0 = Vector256.Create(k.A0);
        var a2 = Vector256.Create(k.A2);
        var b0 = Vector256.Create(k.B0);
        var b2 = Vector256.Create(k.B2);
        var lanes = Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7);
        Span<float> gathered = stackalloc float[Lanes];
        for (var x = 0; x < Width; x += Lanes)
        {
            // The last group overlaps the one before it rather than leaving a scalar tail: it writes the same values again.
            var start = Math.Min(x, Width - Lanes);
            var xs = Vector256.Create((float)start) + lanes;
            var sx = MapCoordinates(a0 * xs + rowX + a2, Width);
            var sy = MapCoordinates(b0 * xs + rowY + b2, Height);
            if (Channels == 1)
            {
                SampleLanes(source, sx, sy, 0).CopyTo(destination.Slice(y * Width + start, Lanes));
                continue;
            }

            for (var ch = 0; ch < Channels; ch++)
            {
                var value = SampleLanes(source, sx, sy, ch);
                value.CopyTo(gathered);
                for (var lane = 0; lane < Lanes; lane++) destination[((y * Width) + start + lane) * Channels + ch] = gathered[lane];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> SampleLanes(ReadOnlySpan<float> source, Vector256<float> x, Vector256<float> y, int channel)
    {
        if (!_bilinear) return ReadLanes(source, RoundAway(y), RoundAway(x), channel);
        var one = Vector256.Create(1f);
        Vector256<float> x0 = Vector256.Floor(x), y0 = Vector256.Floor(y), x1 = x0 + one, y1 = y0 + one;
        var top = (x1 - x) * ReadLanes(source, y0, x0, channel) + (x - x0) * ReadLanes(source, y0, x1, channel);
        var bottom = (x1 - x) * ReadLanes(source, y1, x0, channel) + (x - x0) * ReadLanes(source, y1, x1, channel);
        return (y1 - y) * top + (y - y0) * bottom;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe Vector256<float> ReadLanes(ReadOnlySpan<float> source, Vector256<float> y, Vector256<float> x, int channel)
    {
        var inside = Vector256.GreaterThanOrEqual(y, Vector256<float>.Zero) & Vector256.LessThan(y, Vector256.Create((float)Height))
            & Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero) & Vector256.LessThan(x, Vector256.Create((float)Width));
        var index = (Vector256.ConvertToInt32(y) * Vector256.Create(Width) + Vector256.ConvertToInt32(x)) * Vector256.Create(Channels) + Vector256.Create(channel);
        // Lanes outside the image read element 0 (always there) and are replaced by the fill value.
        index &= inside.AsInt32();
        fixed (float* pixels = source)
        {
            var values = Avx2.GatherVector256(pixels, index, 4);
            return Vector256.ConditionalSelect(inside, values, Vector256.Create(_fillValue));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RoundAway(Vector256<float> value)
    {
        var rounded = Vector256.Floor(Vector256.Abs(value) + Vector256.Create(0.5f));
        return Vector256.ConditionalSelect(Vector256.LessThan(value, Vector256<float>.Zero), -rounded, rounded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> MapCoordinates(Vector256<float> coordinate, int length)
    {
        if (length <= 1 && _fill != FillMode.Constant) return Vector256<float>.Zero;
        var zero = Vector256<float>.Zero;
        var last = Vector256.Create((float)(length - 1));
        var len = Vector256.Create((float)length);
        var length2 = Vector256.Create(2f * length);
        var one = Vector256.Create(1f);
        switch (_fill)
        {
            case FillMode.Reflect:
            {
                // Below 0: the same steps as the scalar path, selected per lane.
                var below = Vector256.LessThan(coordinate, zero);
                var folded = coordinate + length2 * Vector256.Floor(-coordinate / length2);
                folded = Vector256.ConditionalSelect(Vector256.LessThan(coordinate, length2), folded, coordinate);
                var low = Vector256.ConditionalSelect(Vector256.LessThan(folded, -len), folded + length2, -folded - one);
                // Above length - 1.
                var above = Vector256.GreaterThan(coordinate, last);
                var wrapped = coordinate - length2 * Vector256.Floor(coordinate / length2);
                var high = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(wrapped, len), length2 - wrapped - one, wrapped);
                var mapped = Vector256.ConditionalSelect(below, low, Vector256.ConditionalSelect(above, high, coordinate));
                return Vector256.Min(Vector256.Max(mapped, zero), last);
            }
            case FillMode.Wrap:
            {
                var low = coordinate + len * (Vector256.Floor(-coordinate / last) + one);
                var high = coordinate - len * Vector256.Floor(coordinate / last);
                var mapped = Vector256.ConditionalSelect(Vector256.LessThan(coordinate, zero), low,
                    Vector256.ConditionalSelect(Vector256.GreaterThan(coordinate, last), high, coordinate));
                return Vector256.Min(Vector256.Max(mapped, zero), last);
            }
            case FillMode.Nearest:
                return Vector256.Min(Vector256.Max(coordinate, zero), last);
            default:
                return Vector256.Min(Vector256.Max(coordinate, Vector256.Create(-2f)), Vector256.Create(length + 1f));
        }
    }
}

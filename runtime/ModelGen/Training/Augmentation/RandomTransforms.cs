using System.Globalization;

namespace ModelGen;

/// <summary>
/// A range of a random factor, as Keras's image layers take it: one number f means [−|f|, |f|], a pair (lower, upper)
/// that range (sorted); every bound is in [−1, 1].
/// </summary>
public readonly record struct FactorRange
{
    /// <summary>The range [<paramref name="lower"/>, <paramref name="upper"/>] (swapped when given the other way round).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound outside [−1, 1] or not a number.</exception>
    public FactorRange(double lower, double upper)
    {
        Check(lower);
        Check(upper);
        (Lower, Upper) = lower <= upper ? (lower, upper) : (upper, lower);
    }

    /// <summary>The lower bound.</summary>
    public double Lower { get; }

    /// <summary>The upper bound.</summary>
    public double Upper { get; }

    /// <summary>[−|factor|, |factor|], Keras's reading of a single number.</summary>
    public static implicit operator FactorRange(double factor)
    {
        Check(factor);
        return new FactorRange(-Math.Abs(factor), Math.Abs(factor));
    }

    /// <summary>[lower, upper], Keras's reading of a pair.</summary>
    public static implicit operator FactorRange((double Lower, double Upper) range) => new(range.Lower, range.Upper);

    /// <summary>The same as the implicit conversion from a number.</summary>
    public static FactorRange FromDouble(double factor) => factor;

    /// <summary>The same as the implicit conversion from a pair.</summary>
    public static FactorRange FromValueTuple((double Lower, double Upper) range) => range;

    /// <summary>A value drawn uniformly from the range by the unit draw <paramref name="u"/> ∈ [0, 1).</summary>
    internal double At(double u) => Lower + (Upper - Lower) * u;

    private static void Check(double value)
    {
        if (!(value >= -1 && value <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, string.Create(CultureInfo.InvariantCulture,
                $"A factor of Keras's image layers is a number (or a pair of numbers) in [-1, 1], but got {value}."));
        }
    }
}

/// <summary>One random geometric layer of an <see cref="ImageAugmentation"/>.</summary>
public abstract class RandomTransform
{
    private protected RandomTransform()
    {
    }

    /// <summary>
    /// Draws this layer's transform for one sample and composes it into <paramref name="map"/>, the map from output pixel
    /// coordinates to the coordinates sampled in the layer's input, as Keras's matrices are.
    /// </summary>
    internal abstract void Compose(ref AffineMap map, ref SampleDraws draws, int height, int width);
}

/// <summary>
/// Rotates by a random angle (Keras's <c>RandomRotation</c>): <paramref name="factor"/> is a fraction of a full turn, so
/// 0.1 draws from [−36°, 36°]; positive angles turn counter-clockwise. The centre of rotation is the image's centre.
/// </summary>
/// <param name="factor">The range of the angle as a fraction of 2π.</param>
public sealed class RandomRotation(FactorRange factor) : RandomTransform
{
    /// <summary>The range of the angle as a fraction of 2π.</summary>
    public FactorRange Factor { get; } = factor;

    internal override void Compose(ref AffineMap map, ref SampleDraws draws, int height, int width)
    {
        var angle = Factor.At(draws.Next()) * 2 * Math.PI;
        double cos = Math.Cos(angle), sin = Math.Sin(angle), w1 = width - 1, h1 = height - 1;
        var xOffset = (w1 - (cos * w1 - sin * h1)) / 2;
        var yOffset = (h1 - (sin * w1 + cos * h1)) / 2;
        map = map.Then(new AffineMap(cos, -sin, xOffset, sin, cos, yOffset));
    }
}

/// <summary>
/// Shifts by a random fraction of the height and width (Keras's <c>RandomTranslation</c>): positive values shift down
/// and right; 0.1 draws shifts of up to 10% either way.
/// </summary>
/// <param name="heightFactor">The vertical shift as a fraction of the height.</param>
/// <param name="widthFactor">The horizontal shift as a fraction of the width.</param>
public sealed class RandomTranslation(FactorRange heightFactor, FactorRange widthFactor) : RandomTransform
{
    /// <summary>The vertical shift as a fraction of the height.</summary>
    public FactorRange HeightFactor { get; } = heightFactor;

    /// <summary>The horizontal shift as a fraction of the width.</summary>
    public FactorRange WidthFactor { get; } = widthFactor;

    internal override void Compose(ref AffineMap map, ref SampleDraws draws, int height, int width)
    {
        var dy = HeightFactor.At(draws.Next()) * height;
        var dx = WidthFactor.At(draws.Next()) * width;
        map = map.Then(new AffineMap(1, 0, -dx, 0, 1, -dy));
    }
}

/// <summary>
/// Zooms by a random factor about the centre (Keras's <c>RandomZoom</c>): positive values zoom out (the image gets
/// smaller), negative ones zoom in; 0.1 draws from [−10%, +10%]. Without <paramref name="widthFactor"/> both directions
/// take the same draw, keeping the aspect ratio.
/// </summary>
/// <param name="heightFactor">The vertical zoom range.</param>
/// <param name="widthFactor">The horizontal zoom range, or null to zoom both directions alike.</param>
public sealed class RandomZoom(FactorRange heightFactor, FactorRange? widthFactor = null) : RandomTransform
{
    /// <summary>The vertical zoom range.</summary>
    public FactorRange HeightFactor { get; } = heightFactor;

    /// <summary>The horizontal zoom range, or null.</summary>
    public FactorRange? WidthFactor { get; } = widthFactor;

    internal override void Compose(ref AffineMap map, ref SampleDraws draws, int height, int width)
    {
        var zy = 1 + HeightFactor.At(draws.Next());
        var zx = WidthFactor is { } w ? 1 + w.At(draws.Next()) : zy;
        map = map.Then(new AffineMap(zx, 0, (width - 1) / 2.0 * (1 - zx), 0, zy, (height - 1) / 2.0 * (1 - zy)));
    }
}

/// <summary>
/// x_in = A0·x + A1·y + A2, y_in = B0·x + B1·y + B2: where output pixel (x, y) samples its input (Keras's transform
/// vector [a0, a1, a2, b0, b1, b2, 0, 0]).
/// </summary>
internal readonly record struct AffineMap(double A0, double A1, double A2, double B0, double B1, double B2)
{
    public static AffineMap Identity => new(1, 0, 0, 0, 1, 0);

    /// <summary>
    /// This layer followed by <paramref name="next"/>: the next layer's output pixel p samples this layer's output at
    /// next(p), which samples the input at this(next(p)).
    /// </summary>
    public AffineMap Then(AffineMap next) => new(
        A0 * next.A0 + A1 * next.B0, A0 * next.A1 + A1 * next.B1, A0 * next.A2 + A1 * next.B2 + A2,
        B0 * next.A0 + B1 * next.B0, B0 * next.A1 + B1 * next.B1, B0 * next.A2 + B1 * next.B2 + B2);
}

/// <summary>
/// The random numbers of one sample's transform: a counter-based stream fixed by (seed, epoch, sample), so any thread
/// can draw a sample's transform without shared state, in any order.
/// </summary>
internal struct SampleDraws(int seed, int epoch, int sample)
{
    private readonly ulong _key = Mix(Mix(Mix(0x6A09E667F3BCC909UL ^ (uint)seed) ^ (uint)epoch) ^ (uint)sample);
    private ulong _counter;

    /// <summary>The next uniform number in [0, 1), with 53 random bits.</summary>
    public double Next() => (Mix(_key + 0x9E3779B97F4A7C15UL * ++_counter) >> 11) * (1.0 / (1UL << 53));

    /// <summary>SplitMix64's finaliser: every input bit affects every output bit.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

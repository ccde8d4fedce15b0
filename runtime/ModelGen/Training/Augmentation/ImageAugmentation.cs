namespace ModelGen;

/// <summary>
/// Random geometric augmentation of training images, as Keras's preprocessing layers do it (<c>RandomRotation</c>,
/// <c>RandomTranslation</c>, <c>RandomZoom</c> in a <c>Sequential</c>): pass it as <see cref="FitOptions.Augmentation"/>
/// and every training batch is transformed as it is gathered; validation, evaluation and prediction see the images as
/// they are.
/// </summary>
/// <remarks>
/// <para>Each sample's transform is drawn from (seed, epoch, sample index) alone, so it is the same for any thread count,
/// batch size or device, and a resumed run draws what the uninterrupted one would have.</para>
/// <para>The layers' transforms are composed into one affine map per sample and the image is resampled once, with
/// <see cref="Interpolation"/> and <see cref="FillMode"/> as Keras's <c>affine_transform</c> applies them. Keras resamples
/// once per layer; one resampling draws the same geometry with less blur and a third of the work.</para>
/// </remarks>
public sealed class ImageAugmentation
{
    /// <summary>Augments with <paramref name="layers"/>, applied in order (the first acts on the original image).</summary>
    /// <exception cref="ArgumentException">No layers.</exception>
    public ImageAugmentation(params IReadOnlyList<RandomTransform> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("An augmentation needs at least one layer (RandomRotation, RandomTranslation, RandomZoom).", nameof(layers));
        foreach (var layer in layers) ArgumentNullException.ThrowIfNull(layer, nameof(layers));
        Layers = [.. layers];
    }

    /// <summary>The layers, in the order they apply.</summary>
    public IReadOnlyList<RandomTransform> Layers { get; }

    /// <summary>How points outside the image are filled (Keras's default for these layers: <see cref="FillMode.Reflect"/>).</summary>
    public FillMode FillMode { get; init; } = FillMode.Reflect;

    /// <summary>How the image is sampled between pixels (Keras's default: <see cref="Interpolation.Bilinear"/>).</summary>
    public Interpolation Interpolation { get; init; } = Interpolation.Bilinear;

    /// <summary>The value outside the image with <see cref="FillMode.Constant"/> (in the units of the features, e.g. 0 for black after x/255).</summary>
    public float FillValue { get; init; }

    /// <summary>The seed of the random transforms; null takes the fit's seed.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// The augmentation the sample's <c>train --augment</c> uses for small digit-like images: rotation ±5% of a turn
    /// (±18°), translation ±10% and zoom ±10% in each direction.
    /// </summary>
    public static ImageAugmentation Default() =>
        new(new RandomRotation(0.05), new RandomTranslation(0.1, 0.1), new RandomZoom(0.1));
}

/// <summary>Where Keras's image layers take values outside the image (<c>fill_mode</c>).</summary>
public enum FillMode
{
    /// <summary><c>(d c b a | a b c d | d c b a)</c>: reflected about the edge of the last pixel (Keras's default).</summary>
    Reflect,

    /// <summary><c>(k k k k | a b c d | k k k k)</c>: <see cref="ImageAugmentation.FillValue"/>.</summary>
    Constant,

    /// <summary><c>(a b c d | a b c d | a b c d)</c>: wrapped around to the opposite edge.</summary>
    Wrap,

    /// <summary><c>(a a a a | a b c d | d d d d)</c>: the nearest edge pixel.</summary>
    Nearest,
}

/// <summary>How an image is sampled between pixels.</summary>
public enum Interpolation
{
    /// <summary>Weighted from the four surrounding pixels (Keras's default).</summary>
    Bilinear,

    /// <summary>The nearest pixel.</summary>
    Nearest,
}

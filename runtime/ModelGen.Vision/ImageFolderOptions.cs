namespace ModelGen.Vision;

/// <summary>
/// How <see cref="ImageFolder"/> reads a folder (the arguments of Keras's <c>image_dataset_from_directory</c> that apply
/// to a ModelGen model): the image size and channels to convert to, the validation split and its seed, shuffling, the
/// resize interpolation, and the bounds that keep a bad file from taking all memory.
/// </summary>
public sealed record ImageFolderOptions
{
    /// <summary>The largest image decoded by default: 40 megapixels (a 40 MP photo decodes to 160 MB).</summary>
    public const long DefaultMaxImagePixels = 40_000_000;

    /// <summary>The largest image file read by default: 64 MiB.</summary>
    public const long DefaultMaxFileBytes = 64L << 20;

    /// <summary>Rows every image is resized to.</summary>
    public required int Height { get; init; }

    /// <summary>Columns every image is resized to.</summary>
    public required int Width { get; init; }

    /// <summary>Channels every image is converted to: 1 (grayscale), 3 (RGB) or 4 (RGBA) — Keras's <c>color_mode</c>.</summary>
    public required int Channels { get; init; }

    /// <summary>The options for the input of <paramref name="network"/> (height × width × channels), with Keras's defaults otherwise.</summary>
    /// <exception cref="ArgumentException">The network does not take images, or takes a channel count images do not have.</exception>
    public static ImageFolderOptions For(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var shape = network.Description.InputShape;
        if (shape.Count != 3 || shape[2] is not (1 or 3 or 4))
        {
            throw new ArgumentException(
                $"{network.Description.Name} takes {string.Join("x", shape)}; an image folder feeds models whose input is height x width x 1, 3 or 4 channels.", nameof(network));
        }

        return new ImageFolderOptions { Height = shape[0], Width = shape[1], Channels = shape[2] };
    }

    /// <summary>
    /// The fraction of images kept for validation, 0 (none) to below 1 (Keras's <c>validation_split</c>): after the seeded
    /// shuffle, the last ⌊fraction · count⌋ images are validation and the others training.
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>Which part <see cref="ImageFolder.Load"/> returns when <see cref="ValidationSplit"/> is set (Keras's <c>subset</c>).</summary>
    public ImageFolderSubset Subset { get; init; } = ImageFolderSubset.Training;

    /// <summary>
    /// The seed of the shuffle (Keras's <c>seed</c>, which Keras passes to numpy's <c>RandomState</c>; the same seed
    /// orders the same files the same way here). Required with a validation split and shuffling, so that the training
    /// and validation parts of two loads never overlap; when null otherwise, a random seed.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Whether the files are shuffled (Keras's default); otherwise they stay in class, then path, order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>How images are resized (Keras's default: bilinear, without antialiasing, as <c>tf.image.resize</c>).</summary>
    public Interpolation Interpolation { get; init; } = Interpolation.Bilinear;

    /// <summary>
    /// What each 0..255 channel value is multiplied by (default 1/255, as ModelGen's MNIST pipeline and <c>Predict(byte)</c>
    /// scale; Keras yields the raw 0..255 values, which 1 keeps).
    /// </summary>
    public float Scale { get; init; } = 1f / 255f;

    /// <summary>The classes to load, in this order (Keras's <c>class_names</c>): a subset of the subfolders; all of them, sorted, when null.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>The most pixels an image may have; a larger one is refused, naming the file.</summary>
    public long MaxImagePixels { get; init; } = DefaultMaxImagePixels;

    /// <summary>The largest image file read; a larger one is refused, naming the file.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;
}

/// <summary>The part of a split image folder (Keras's <c>subset</c>).</summary>
public enum ImageFolderSubset
{
    /// <summary>The images not kept for validation.</summary>
    Training,

    /// <summary>The last <see cref="ImageFolderOptions.ValidationSplit"/> of the shuffled images.</summary>
    Validation,
}

/// <summary>An image folder that cannot be loaded as asked; the message names the folder or file at fault and what to do.</summary>
public sealed class ImageFolderException : ModelGenException
{
    /// <summary>Creates the exception.</summary>
    public ImageFolderException(string path, string message) : base(message) => Path = path;

    /// <summary>Creates the exception with its cause.</summary>
    public ImageFolderException(string path, string message, Exception inner) : base(message, inner) => Path = path;

    /// <summary>The folder or file at fault.</summary>
    public string Path { get; }
}

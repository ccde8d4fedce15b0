using System.Globalization;
using SkiaSharp;

namespace ModelGen.Vision;

/// <summary>
/// A folder of images as a <see cref="Dataset"/>, with the semantics of Keras's <c>image_dataset_from_directory</c>:
/// one subfolder per class (searched recursively), class names sorted (ordinal) and labels their indices, images decoded
/// (PNG, JPEG, BMP, GIF's first frame), converted to the model's channels and resized to its input, a seeded shuffle and
/// validation split. The dataset names its classes (<see cref="Dataset.ClassNames"/>), so a model trained on it saves them.
/// </summary>
/// <remarks>
/// A folder that cannot be used whole is refused with an <see cref="ImageFolderException"/> that names the folder or file:
/// no class folders, only one, an empty class, an unreadable, damaged or oversized image. Nothing is ever half loaded.
/// Hidden files and folders (names starting with a dot) are skipped; Keras skips hidden folders only.
/// </remarks>
public static class ImageFolder
{
    /// <summary>The file extensions read, as Keras's allow-list (compared without case).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".bmp", ".gif", ".jpeg", ".jpg", ".png"];

    /// <summary>
    /// Loads the images of <paramref name="directory"/>, or with <see cref="ImageFolderOptions.ValidationSplit"/> the
    /// <see cref="ImageFolderOptions.Subset"/> of them.
    /// </summary>
    /// <exception cref="ImageFolderException">The folder or one of its images cannot be used; the message says which and why.</exception>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    public static Dataset Load(string directory, ImageFolderOptions options)
    {
        var (files, classNames) = Index(directory, options);
        var (training, validation) = Split(directory, files, options);
        return Decode(options.Subset == ImageFolderSubset.Validation && options.ValidationSplit > 0 ? validation : training, classNames, options);
    }

    /// <summary>Loads both parts of a split folder at once (Keras's <c>subset="both"</c>): training, then validation.</summary>
    /// <exception cref="ImageFolderException">The folder or one of its images cannot be used.</exception>
    /// <exception cref="ArgumentException">The options are out of range, or <see cref="ImageFolderOptions.ValidationSplit"/> is 0.</exception>
    public static (Dataset Training, Dataset Validation) LoadSplit(string directory, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ValidationSplit <= 0) throw new ArgumentException("LoadSplit needs a ValidationSplit above 0 (e.g. 0.2).", nameof(options));
        var (files, classNames) = Index(directory, options);
        var (training, validation) = Split(directory, files, options);
        return (Decode(training, classNames, options), Decode(validation, classNames, options));
    }

    /// <summary>
    /// Whether <paramref name="directory"/> looks like an image folder: it has a (non-hidden) subfolder holding an image
    /// file with one of <see cref="Extensions"/>. Cheap: it reads folder listings only.
    /// </summary>
    public static bool IsImageFolder(string directory)
    {
        if (!Directory.Exists(directory)) return false;
        return ClassFolders(directory).Any(folder => ImageFiles(folder).Any());
    }

    /// <summary>Decodes one image file as <see cref="Load"/> decodes each of a folder's (channels, size, scale), e.g. to predict it.</summary>
    /// <exception cref="ImageFolderException">The file cannot be read, is not a whole image, or is too large.</exception>
    public static float[] LoadImage(string path, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckOptions(options);
        var features = new float[options.Height * options.Width * options.Channels];
        DecodeInto(path, options, features);
        return features;
    }

    // ------------------------------------------------------------------------------------------------ the index

    private static (List<(string Path, int Label)> Files, string[] ClassNames) Index(string directory, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(directory);
        CheckOptions(options);
        if (!Directory.Exists(directory))
        {
            throw new ImageFolderException(directory,
                File.Exists(directory)
                    ? $"{directory} is a file; pass a folder with one subfolder of images per class."
                    : $"{directory} does not exist; pass a folder with one subfolder of images per class.");
        }

        var subfolders = ClassFolders(directory).Select(Path.GetFileName).Select(name => name!).ToList();
        string[] classNames;
        if (options.ClassNames is { } wanted)
        {
            foreach (var name in wanted)
            {
                if (!subfolders.Contains(name, StringComparer.Ordinal))
                {
                    throw new ImageFolderException(directory, $"{directory} has no class folder '{name}' (ClassNames must name some of its subfolders: {string.Join(", ", subfolders)}).");
                }
            }

            if (wanted.Distinct(StringComparer.Ordinal).Count() != wanted.Count)
            {
                throw new ArgumentException($"ClassNames names a class twice: {string.Join(", ", wanted)}.", nameof(options));
            }

            classNames = [.. wanted];
        }
        else
        {
            classNames = [.. subfolders];
        }

        if (classNames.Length == 0)
        {
            throw new ImageFolderException(directory,
                $"{directory} has no class folders: put each class's images in a subfolder named after the class (e.g. {Path.Combine(directory, "cat", "1.png")}).");
        }

        if (classNames.Length == 1)
        {
            throw new ImageFolderException(directory,
                $"{directory} has one class folder ({classNames[0]}); a classifier needs at least two: add a subfolder of images for every other class.");
        }

        var files = new List<(string, int)>();
        for (var label = 0; label < classNames.Length; label++)
        {
            var folder = Path.Combine(directory, classNames[label]);
            var before = files.Count;
            foreach (var file in ImageFiles(folder)) files.Add((file, label));
            if (files.Count == before)
            {
                throw new ImageFolderException(folder,
                    $"class folder {folder} holds no images ({string.Join(", ", Extensions)}); add images of class '{classNames[label]}' or remove the folder.");
            }
        }

        return (files, classNames);
    }

    /// <summary>The class subfolders: not hidden, not links to folders elsewhere (Keras's follow_links=False), sorted ordinal.</summary>
    private static IEnumerable<string> ClassFolders(string directory) =>
        Directory.EnumerateDirectories(directory)
            .Where(d => !Path.GetFileName(d).StartsWith('.') && new DirectoryInfo(d).LinkTarget is null)
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// The images under <paramref name="folder"/> and its subfolders, as Keras walks them: folders in path order, files
    /// sorted within each; hidden files and folders skipped.
    /// </summary>
    private static IEnumerable<string> ImageFiles(string folder)
    {
        var folders = new List<string> { folder };
        var pending = new Stack<string>([folder]);
        while (pending.Count > 0)
        {
            foreach (var sub in Directory.EnumerateDirectories(pending.Pop()))
            {
                if (Path.GetFileName(sub).StartsWith('.') || new DirectoryInfo(sub).LinkTarget is not null) continue;
                folders.Add(sub);
                pending.Push(sub);
            }
        }

        foreach (var dir in folders.Order(StringComparer.Ordinal))
        {
            foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(file);
                if (!name.StartsWith('.') && Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase))) yield return file;
            }
        }
    }

    /// <summary>Keras's order and split: the files shuffled by numpy's RandomState(seed), then the last ⌊split · n⌋ are validation.</summary>
    private static ((string Path, int Label)[] Training, (string Path, int Label)[] Validation) Split(
        string directory, List<(string Path, int Label)> files, ImageFolderOptions options)
    {
        var all = files.ToArray();
        if (options.Shuffle)
        {
            var seed = options.Seed ?? Random.Shared.Next(1_000_000);
            new NumpyShuffle((uint)seed).Shuffle(all.AsSpan());
        }

        if (options.ValidationSplit <= 0) return (all, []);
        var validationCount = (int)(options.ValidationSplit * all.Length);
        if (validationCount == 0 || validationCount == all.Length)
        {
            throw new ImageFolderException(directory, string.Create(CultureInfo.InvariantCulture,
                $"a validation split of {options.ValidationSplit} of the {all.Length} images of {directory} leaves {(validationCount == 0 ? "no validation" : "no training")} images; use a split that keeps some of each."));
        }

        return (all[..^validationCount], all[^validationCount..]);
    }

    private static void CheckOptions(ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Height < 1 || options.Width < 1) throw new ArgumentOutOfRangeException(nameof(options), $"The image size {options.Height}x{options.Width} must be positive.");
        if (options.Channels is not (1 or 3 or 4)) throw new ArgumentOutOfRangeException(nameof(options), $"Channels is {options.Channels}; images are converted to 1 (grayscale), 3 (RGB) or 4 (RGBA).");
        if (!(options.ValidationSplit >= 0 && options.ValidationSplit < 1)) throw new ArgumentOutOfRangeException(nameof(options), $"ValidationSplit is {options.ValidationSplit}; it must be at least 0 and below 1.");
        if (options.ValidationSplit > 0 && options.Shuffle && options.Seed is null)
        {
            throw new ArgumentException("A validation split of shuffled images needs a Seed, so that the training and validation parts never overlap (as Keras requires).", nameof(options));
        }

        if (!float.IsFinite(options.Scale)) throw new ArgumentOutOfRangeException(nameof(options), "Scale must be a finite number.");
        if (options.MaxImagePixels < 1 || options.MaxFileBytes < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxImagePixels and MaxFileBytes must be positive.");
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /// <summary>Decodes every file into one dataset, in parallel (each image into its own slot, so the order is fixed).</summary>
    private static Dataset Decode((string Path, int Label)[] files, string[] classNames, ImageFolderOptions options)
    {
        var length = options.Height * options.Width * options.Channels;
        if ((long)length * files.Length > Array.MaxLength)
        {
            throw new ImageFolderException(Path.GetDirectoryName(files[0].Path) ?? "", string.Create(CultureInfo.InvariantCulture,
                $"{files.Length:N0} images of {options.Height}x{options.Width}x{options.Channels} take more floats than one array holds; load fewer images or a smaller size."));
        }

        var features = new float[(long)length * files.Length];
        var labels = new int[files.Length];
        try
        {
            Parallel.For(0, files.Length, i =>
            {
                DecodeInto(files[i].Path, options, features.AsSpan(i * length, length));
                labels[i] = files[i].Label;
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0 && e.InnerExceptions.All(x => x is ImageFolderException))
        {
            // The first bad file in folder order, so the message does not depend on which thread got there first.
            throw e.InnerExceptions.Cast<ImageFolderException>().OrderBy(x => Array.FindIndex(files, f => f.Path == x.Path)).First();
        }

        return new Dataset(features, labels, length) { ClassNames = classNames };
    }

    private static void DecodeInto(string path, ImageFolderOptions options, Span<float> destination)
    {
        byte[] bytes;
        try
        {
            bytes = RegularFile.ReadAllBytes(path, options.MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ImageFolderException(path, $"cannot read image {path}: {e.Message}", e);
        }

        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageFolderException(path, $"{path} is not an image that can be decoded (PNG, JPEG, BMP or GIF); remove it or replace it with a whole image.");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0 || (long)width * height > options.MaxImagePixels)
        {
            throw new ImageFolderException(path, string.Create(CultureInfo.InvariantCulture,
                $"{path} is {width}x{height} pixels, more than the {options.MaxImagePixels:N0} an image may have (ImageFolderOptions.MaxImagePixels); shrink it or raise the limit."));
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* pixels = rgba) result = codec.GetPixels(info, (nint)pixels);
        }

        if (result is not SKCodecResult.Success)
        {
            // An incomplete decode fills the missing rows with blank ones: training on that would learn another picture.
            throw new ImageFolderException(path, $"{path} is damaged or truncated ({result}); remove it or replace it with a whole image.");
        }

        Resize(ToChannels(rgba, width * height, options.Channels), height, width, options, destination);
    }

    /// <summary>
    /// RGBA bytes to 1, 3 or 4 channels as TensorFlow's decoders convert (Keras's color_mode): gray is the BT.601 luma
    /// (0.299 R + 0.587 G + 0.114 B, as libjpeg computes it) rounded to a byte, and alpha is dropped, not composited.
    /// </summary>
    private static byte[] ToChannels(byte[] rgba, int pixels, int channels)
    {
        if (channels == 4) return rgba;
        var output = new byte[pixels * channels];
        for (var p = 0; p < pixels; p++)
        {
            int r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            if (channels == 1)
            {
                output[p] = (byte)((299 * r + 587 * g + 114 * b + 500) / 1000);
            }
            else
            {
                output[3 * p] = (byte)r;
                output[3 * p + 1] = (byte)g;
                output[3 * p + 2] = (byte)b;
            }
        }

        return output;
    }

    /// <summary>
    /// Resizes as <c>tf.image.resize</c> does by default (what Keras's loader calls): half-pixel centres, bilinear without
    /// antialiasing (or nearest), in float, then each value times <see cref="ImageFolderOptions.Scale"/>.
    /// </summary>
    private static void Resize(byte[] source, int sourceHeight, int sourceWidth, ImageFolderOptions options, Span<float> destination)
    {
        int height = options.Height, width = options.Width, channels = options.Channels;
        float scaleY = (float)sourceHeight / height, scaleX = (float)sourceWidth / width;
        for (var y = 0; y < height; y++)
        {
            var inY = (y + 0.5f) * scaleY - 0.5f;
            var y0 = Math.Max((int)MathF.Floor(inY), 0);
            var y1 = Math.Min((int)MathF.Ceiling(inY), sourceHeight - 1);
            var dy = inY - MathF.Floor(inY);
            for (var x = 0; x < width; x++)
            {
                var inX = (x + 0.5f) * scaleX - 0.5f;
                var x0 = Math.Max((int)MathF.Floor(inX), 0);
                var x1 = Math.Min((int)MathF.Ceiling(inX), sourceWidth - 1);
                var dx = inX - MathF.Floor(inX);
                for (var c = 0; c < channels; c++)
                {
                    float value;
                    if (options.Interpolation == Interpolation.Nearest)
                    {
                        // TF's nearest with half-pixel centres: floor of the scaled centre, clamped.
                        var ny = Math.Min((int)MathF.Floor((y + 0.5f) * scaleY), sourceHeight - 1);
                        var nx = Math.Min((int)MathF.Floor((x + 0.5f) * scaleX), sourceWidth - 1);
                        value = source[(ny * sourceWidth + nx) * channels + c];
                    }
                    else
                    {
                        float topLeft = source[(y0 * sourceWidth + x0) * channels + c], topRight = source[(y0 * sourceWidth + x1) * channels + c];
                        float bottomLeft = source[(y1 * sourceWidth + x0) * channels + c], bottomRight = source[(y1 * sourceWidth + x1) * channels + c];
                        var top = topLeft + (topRight - topLeft) * dx;
                        var bottom = bottomLeft + (bottomRight - bottomLeft) * dx;
                        value = top + (bottom - top) * dy;
                    }

                    destination[(y * width + x) * channels + c] = value * options.Scale;
                }
            }
        }
    }
}

using ModelGen;
using SkiaSharp;

namespace LeNet5Sample;

/// <summary>
/// Reads a user's picture and turns it into an MNIST-style 28x28 image with the runtime's <see cref="DigitImage"/>
/// (bounding box to 20 pixels, centre of mass at the centre): decoding is the sample's, the framing is shared.
/// </summary>
internal static class UserImage
{
    public const int Size = DigitImage.Size;

    // Guards memory: a 50-megapixel picture decodes to 200 MB of RGBA.
    private const long MaxPixels = 50_000_000;

    // A picture of a digit is far smaller; a file this large is not one (or is /dev/zero behind a link).
    private const long MaxFileBytes = 64L << 20;

    /// <summary>Decodes <paramref name="path"/> (PNG, JPEG, or any format SkiaSharp reads) into 28x28 bytes.</summary>
    public static byte[] Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SampleException($"--image: {path} does not exist; pass the path of a PNG or JPEG picture of a digit.");
        }

        byte[] bytes;
        try
        {
            bytes = RegularFile.ReadAllBytes(path, MaxFileBytes);
        }
        catch (NotARegularFileException e)
        {
            throw new SampleException($"--image: {e.Message}; pass the path of a PNG or JPEG picture of a digit.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"--image: cannot read {path}: {e.Message}", e);
        }

        var (gray, width, height) = DecodeGray(bytes, path);
        return ToMnist(gray, width, height, path);
    }

    /// <summary>Decodes an image to 8-bit gray (<see cref="DigitImage.GrayFromRgba"/>: luma, transparent parts over white).</summary>
    internal static (byte[] Gray, int Width, int Height) DecodeGray(byte[] bytes, string name)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new SampleException($"--image: {name} is not an image this program can decode; pass a PNG or JPEG file.");
        var width = codec.Info.Width;
        var height = codec.Info.Height;
        if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
        {
            throw new SampleException($"--image: {name} is {width}x{height} pixels; pass a picture of at most {MaxPixels / 1_000_000} megapixels (a digit needs few).");
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput)
        {
            // The decoder fills what is missing with blank rows: predicting from that would answer for another picture.
            throw new SampleException($"--image: {name} is truncated or damaged ({result}): its pixels end early. Pass the complete file.");
        }

        if (result is not SKCodecResult.Success)
        {
            throw new SampleException($"--image: {name} cannot be decoded ({result}); the file is damaged or not a PNG or JPEG picture.");
        }

        return (DigitImage.GrayFromRgba(bitmap.GetPixelSpan(), width, height), width, height);
    }

    /// <summary>The MNIST-style 28x28 image of a grayscale picture (<see cref="DigitImage.ToMnist"/>, shared with DigitPad).</summary>
    internal static byte[] ToMnist(byte[] gray, int width, int height, string name) =>
        DigitImage.ToMnist(gray, width, height)
        ?? throw new SampleException($"--image: {name} shows no digit: it is almost uniform, or no pixel stands out from the background. Pass a picture of one digit, dark on light or light on dark.");
}

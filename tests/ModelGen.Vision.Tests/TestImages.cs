using SkiaSharp;

namespace ModelGen.Vision.Tests;

/// <summary>Writes image files for the tests with SkiaSharp's encoders.</summary>
internal static class TestImages
{
    /// <summary>Writes <paramref name="gray"/> (row-major bytes) as an 8-bit grayscale PNG.</summary>
    public static void WriteGrayPng(string path, byte[] gray, int height, int width)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        gray.CopyTo(bitmap.GetPixelSpan());
        Write(path, bitmap, SKEncodedImageFormat.Png);
    }

    /// <summary>Writes <paramref name="rgba"/> (row-major, 4 bytes a pixel) as a PNG or JPEG.</summary>
    public static void WriteRgba(string path, byte[] rgba, int height, int width, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        rgba.CopyTo(bitmap.GetPixelSpan());
        Write(path, bitmap, format);
    }

    private static void Write(string path, SKBitmap bitmap, SKEncodedImageFormat format)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(format, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>
    /// A folder of MNIST test digits as PNGs, <paramref name="perClass"/> a class, one subfolder per digit (0-9), each file
    /// named after its index in the test set; returns the indices written per class.
    /// </summary>
    public static Dictionary<int, List<int>> WriteMnistFolder(string root, MnistData mnist, int perClass)
    {
        var written = Enumerable.Range(0, 10).ToDictionary(d => d, _ => new List<int>());
        for (var i = 0; i < mnist.Test.Count && written.Values.Any(l => l.Count < perClass); i++)
        {
            var label = mnist.Test.Label(i);
            if (written[label].Count == perClass) continue;
            WriteGrayPng(Path.Combine(root, label.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{i:D5}.png"), mnist.Test.Image(i).ToArray(), 28, 28);
            written[label].Add(i);
        }

        return written;
    }
}

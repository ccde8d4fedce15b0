using ModelGen;
using SkiaSharp;

namespace LeNet5Sample;

/// <summary>
/// Turns a user's picture into an MNIST-style 28x28 image, the way MNIST itself was made: light ink on a black
/// background, the digit's bounding box scaled so that its longer side is 20 pixels (aspect ratio kept, area
/// averaging), then placed in a 28x28 frame so that its centre of mass is at the centre (pixel 14, 14).
/// </summary>
internal static class UserImage
{
    public const int Size = 28;
    public const int DigitBox = 20;

    // Guards memory: a 50-megapixel picture decodes to 200 MB of RGBA.
    private const long MaxPixels = 50_000_000;

    // A picture of a digit is far smaller; a file this large is not one (or is /dev/zero behind a link).
    private const long MaxFileBytes = 64L << 20;

    // After the background is removed, weaker pixels are paper texture or sensor noise, not ink.
    private const int NoiseLevel = 32;

    // Less contrast than this between the background and the brightest pixel means there is no ink at all.
    private const int MinimumContrast = 24;

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

    /// <summary>Decodes an image to 8-bit gray (ITU-R BT.601 luma), transparent parts composited over white.</summary>
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

        var rgba = bitmap.GetPixelSpan();
        var gray = new byte[width * height];
        for (var i = 0; i < gray.Length; i++)
        {
            var r = rgba[4 * i];
            var g = rgba[4 * i + 1];
            var b = rgba[4 * i + 2];
            var a = rgba[4 * i + 3] / 255.0;
            var luma = 0.299 * r + 0.587 * g + 0.114 * b;
            gray[i] = (byte)Math.Round(a * luma + (1 - a) * 255);
        }

        return (gray, width, height);
    }

    /// <summary>The MNIST-style 28x28 image of a grayscale picture (<paramref name="width"/> x <paramref name="height"/>, row-major).</summary>
    internal static byte[] ToMnist(byte[] gray, int width, int height, string name)
    {
        if (gray.Length != width * height) throw new ArgumentException($"{gray.Length} pixels do not make a {width}x{height} image.", nameof(gray));

        // 1. Light ink on black, as in MNIST: a light border means dark ink on light paper.
        long borderSum = 0;
        var borderCount = 0;
        for (var x = 0; x < width; x++)
        {
            borderSum += gray[x] + gray[(height - 1) * width + x];
            borderCount += 2;
        }

        for (var y = 1; y < height - 1; y++)
        {
            borderSum += gray[y * width] + gray[y * width + width - 1];
            borderCount += 2;
        }

        var invert = (double)borderSum / borderCount > 127;
        var ink = new float[gray.Length];
        for (var i = 0; i < ink.Length; i++) ink[i] = invert ? 255 - gray[i] : gray[i];

        // 2. The border's level becomes black and the brightest pixel white; what is left near black is noise.
        var background = invert ? 255 - (double)borderSum / borderCount : (double)borderSum / borderCount;
        var brightest = ink.Max();
        if (brightest - background < MinimumContrast)
        {
            throw new SampleException($"--image: {name} shows no digit: it is almost uniform. Pass a picture of one digit, dark on light or light on dark.");
        }

        var gain = 255 / (brightest - background);
        for (var i = 0; i < ink.Length; i++)
        {
            var v = (float)Math.Clamp((ink[i] - background) * gain, 0, 255);
            ink[i] = v < NoiseLevel ? 0 : v;
        }

        // 3. The bounding box of the ink.
        int left = width, right = -1, top = height, bottom = -1;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (ink[y * width + x] <= 0) continue;
                left = Math.Min(left, x);
                right = Math.Max(right, x);
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
            }
        }

        if (right < 0)
        {
            throw new SampleException($"--image: {name} shows no digit: no pixel stands out from the background.");
        }

        var boxWidth = right - left + 1;
        var boxHeight = bottom - top + 1;

        // 4. The longer side to 20 pixels, the aspect ratio kept.
        var longer = Math.Max(boxWidth, boxHeight);
        var scaledWidth = Math.Clamp((int)Math.Round(boxWidth * (double)DigitBox / longer), 1, DigitBox);
        var scaledHeight = Math.Clamp((int)Math.Round(boxHeight * (double)DigitBox / longer), 1, DigitBox);
        var scaled = Resample(ink, width, left, top, boxWidth, boxHeight, scaledWidth, scaledHeight);

        // 5. Centre of mass at pixel (14, 14): where MNIST has it (its mean over the 60,000 training images, in pixel
        //    indices, is 14.0 in both directions).
        double mass = 0, mx = 0, my = 0;
        for (var y = 0; y < scaledHeight; y++)
        {
            for (var x = 0; x < scaledWidth; x++)
            {
                var v = scaled[y * scaledWidth + x];
                mass += v;
                mx += v * x;
                my += v * y;
            }
        }

        var dx = (int)Math.Round(Size / 2 - mx / mass);
        var dy = (int)Math.Round(Size / 2 - my / mass);
        var result = new byte[Size * Size];
        for (var y = 0; y < scaledHeight; y++)
        {
            var ty = y + dy;
            if ((uint)ty >= Size) continue;
            for (var x = 0; x < scaledWidth; x++)
            {
                var tx = x + dx;
                if ((uint)tx >= Size) continue;
                result[ty * Size + tx] = (byte)Math.Round(Math.Clamp(scaled[y * scaledWidth + x], 0, 255));
            }
        }

        return result;
    }

    /// <summary>
    /// Resamples the box (<paramref name="x0"/>, <paramref name="y0"/>, <paramref name="w"/> x <paramref name="h"/>) of
    /// <paramref name="source"/> to <paramref name="ow"/> x <paramref name="oh"/>: each output pixel is the mean of the
    /// source area it covers (fractional pixels weighted by their overlap), so thin strokes fade instead of vanishing.
    /// </summary>
    internal static float[] Resample(float[] source, int stride, int x0, int y0, int w, int h, int ow, int oh)
    {
        var output = new float[ow * oh];
        var sx = (double)w / ow;
        var sy = (double)h / oh;
        for (var oy = 0; oy < oh; oy++)
        {
            var ya = oy * sy;
            var yb = (oy + 1) * sy;
            for (var ox = 0; ox < ow; ox++)
            {
                var xa = ox * sx;
                var xb = (ox + 1) * sx;
                double sum = 0;
                for (var iy = (int)Math.Floor(ya); iy < Math.Min(h, (int)Math.Ceiling(yb)); iy++)
                {
                    var wy = Math.Min(yb, iy + 1) - Math.Max(ya, iy);
                    if (wy <= 0) continue;
                    var row = (y0 + iy) * stride + x0;
                    for (var ix = (int)Math.Floor(xa); ix < Math.Min(w, (int)Math.Ceiling(xb)); ix++)
                    {
                        var wx = Math.Min(xb, ix + 1) - Math.Max(xa, ix);
                        if (wx > 0) sum += source[row + ix] * wx * wy;
                    }
                }

                output[oy * ow + ox] = (float)(sum / (sx * sy));
            }
        }

        return output;
    }
}

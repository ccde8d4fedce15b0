using System;

namespace ModelGen;

/// <summary>
/// Turns a picture of one handwritten digit into an MNIST-style 28x28 image, the way MNIST itself was made: light ink on
/// a black background, the digit's bounding box scaled so that its longer side is 20 pixels (aspect ratio kept, area
/// averaging), then placed in a 28x28 frame so that its centre of mass is at the centre (pixel 14, 14).
/// </summary>
/// <remarks>
/// A network trained on MNIST recognises a user's digit only when it is framed like MNIST's: this is what the LeNet5
/// sample's <c>predict --image</c> and the DigitPad page both run on what the user drew.
/// </remarks>
public static class DigitImage
{
    /// <summary>Side of the result in pixels.</summary>
    public const int Size = 28;

    /// <summary>The longer side of the digit's bounding box after scaling, in pixels.</summary>
    public const int DigitBox = 20;

    // After the background is removed, weaker pixels are paper texture or sensor noise, not ink.
    private const int NoiseLevel = 32;

    // Less contrast than this between the background and the brightest pixel means there is no ink at all.
    private const int MinimumContrast = 24;

    /// <summary>
    /// 8-bit gray (ITU-R BT.601 luma) of <paramref name="width"/> x <paramref name="height"/> RGBA pixels (4 bytes each,
    /// not premultiplied, as a canvas's <c>getImageData</c> gives them), transparent parts composited over white.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not agree.</exception>
    public static byte[] GrayFromRgba(ReadOnlySpan<byte> rgba, int width, int height)
    {
        CheckSize(rgba.Length, 4, width, height, nameof(rgba));
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

        return gray;
    }

    /// <summary>
    /// The MNIST-style 28x28 image (row-major bytes, light ink on black) of a grayscale picture of
    /// <paramref name="width"/> x <paramref name="height"/> pixels (row-major), dark ink on light paper or light on dark;
    /// null when the picture shows no digit (it is almost uniform, or no pixel stands out from the background).
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not agree.</exception>
    public static byte[]? ToMnist(ReadOnlySpan<byte> gray, int width, int height)
    {
        CheckSize(gray.Length, 1, width, height, nameof(gray));

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
        var brightest = 0f;
        for (var i = 0; i < ink.Length; i++)
        {
            ink[i] = invert ? 255 - gray[i] : gray[i];
            brightest = Math.Max(brightest, ink[i]);
        }

        // 2. The border's level becomes black and the brightest pixel white; what is left near black is noise.
        var background = invert ? 255 - (double)borderSum / borderCount : (double)borderSum / borderCount;
        if (brightest - background < MinimumContrast) return null;

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

        if (right < 0) return null;

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

    private static void CheckSize(int length, int bytesPerPixel, int width, int height, string parameter)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"The picture is {width}x{height} pixels; both sides must be positive.");
        }

        if ((long)width * height * bytesPerPixel != length)
        {
            throw new ArgumentException($"{length} bytes do not make a {width}x{height} picture of {bytesPerPixel} byte(s) per pixel.", parameter);
        }
    }

    /// <summary>
    /// Resamples the box (<paramref name="x0"/>, <paramref name="y0"/>, <paramref name="w"/> x <paramref name="h"/>) of
    /// <paramref name="source"/> to <paramref name="ow"/> x <paramref name="oh"/>: each output pixel is the mean of the
    /// source area it covers (fractional pixels weighted by their overlap), so thin strokes fade instead of vanishing.
    /// </summary>
    private static float[] Resample(float[] source, int stride, int x0, int y0, int w, int h, int ow, int oh)
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

namespace ModelGen.Runtime.Tests.Data;

/// <summary>MNIST-style framing of a user's picture: box to 20 pixels (aspect kept), centre of mass at (14, 14).</summary>
public sealed class DigitImageTests
{
    /// <summary>A <paramref name="width"/> x <paramref name="height"/> picture of <paramref name="paper"/> with a filled rectangle of <paramref name="ink"/>.</summary>
    private static byte[] Rectangle(int width, int height, int x0, int y0, int w, int h, byte paper, byte ink)
    {
        var gray = Enumerable.Repeat(paper, width * height).ToArray();
        for (var y = y0; y < y0 + h; y++)
        {
            for (var x = x0; x < x0 + w; x++) gray[y * width + x] = ink;
        }

        return gray;
    }

    private static (int Left, int Top, int Width, int Height) Box(byte[] image)
    {
        int left = 28, right = -1, top = 28, bottom = -1;
        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 28; x++)
            {
                if (image[y * 28 + x] == 0) continue;
                left = Math.Min(left, x);
                right = Math.Max(right, x);
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
            }
        }

        return (left, top, right - left + 1, bottom - top + 1);
    }

    private static (double X, double Y) CentreOfMass(byte[] image)
    {
        double mass = 0, mx = 0, my = 0;
        for (var i = 0; i < image.Length; i++)
        {
            mass += image[i];
            mx += image[i] * (i % 28);
            my += image[i] * (i / 28);
        }

        return (mx / mass, my / mass);
    }

    [Fact]
    public void ToMnist_DarkRectangleOnWhite_BoxedTo20PixelsAspectKeptAndCentredByMass()
    {
        // 40 x 80 pixels of ink, off-centre in a 100 x 120 picture: the longer side becomes 20, the shorter 10.
        var image = DigitImage.ToMnist(Rectangle(100, 120, 5, 30, 40, 80, paper: 255, ink: 0), 100, 120)!;

        Assert.Equal(DigitImage.Size * DigitImage.Size, image.Length);
        var box = Box(image);
        Assert.Equal((10, 20), (box.Width, box.Height));
        Assert.All(image.Where(v => v != 0), v => Assert.Equal(255, v));
        var (cx, cy) = CentreOfMass(image);
        Assert.InRange(cx, 13.5, 14.5);
        Assert.InRange(cy, 13.5, 14.5);
    }

    [Fact]
    public void ToMnist_LightInkOnBlack_SameAsDarkInkOnWhite()
    {
        var dark = DigitImage.ToMnist(Rectangle(60, 60, 20, 10, 8, 30, paper: 255, ink: 0), 60, 60);
        var light = DigitImage.ToMnist(Rectangle(60, 60, 20, 10, 8, 30, paper: 0, ink: 255), 60, 60);

        Assert.NotNull(dark);
        Assert.Equal(dark, light);
    }

    [Theory]
    [InlineData(255, 255)]
    [InlineData(0, 0)]
    [InlineData(200, 190)] // less contrast than any ink on paper
    public void ToMnist_NoDigit_IsNull(byte paper, byte ink) =>
        Assert.Null(DigitImage.ToMnist(Rectangle(50, 50, 10, 10, 20, 20, paper, ink), 50, 50));

    [Fact]
    public void GrayFromRgba_LumaOfEachPixel_TransparentPartsOverWhite()
    {
        byte[] rgba =
        [
            0, 0, 0, 255,       // opaque black
            255, 0, 0, 255,     // opaque red: 0.299 x 255
            0, 0, 0, 0,         // transparent: the white behind it
            0, 0, 0, 128,       // half-transparent black over white
        ];

        Assert.Equal(new byte[] { 0, 76, 255, 127 }, DigitImage.GrayFromRgba(rgba, 2, 2));
    }

    [Fact]
    public void SizesThatDisagree_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => DigitImage.GrayFromRgba(new byte[15], 2, 2));
        Assert.Throws<ArgumentException>(() => DigitImage.ToMnist(new byte[5], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DigitImage.ToMnist([], 0, 0));
    }
}

using SkiaSharp;

namespace ModelGen.Vision.Tests;

/// <summary>ImageFolder against MNIST written as PNGs (the pixels are the truth), numpy's shuffle, and folders that must be refused.</summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("modelgen-vision-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ImageFolderOptions Gray28(double split = 0, int? seed = 7, bool shuffle = true) =>
        new() { Height = 28, Width = 28, Channels = 1, ValidationSplit = split, Seed = seed, Shuffle = shuffle };

    [Fact]
    public void MnistPngFolder_LoadsEveryDigitWithItsFoldersLabel_PixelForPixel()
    {
        var mnist = Mnist.Load();
        var written = TestImages.WriteMnistFolder(_root, mnist, perClass: 12);

        var data = ImageFolder.Load(_root, Gray28(shuffle: false));

        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], data.ClassNames);
        Assert.Equal(120, data.Count);
        // Unshuffled: class by class, files in name (= test index) order; a 28x28 image is not resized.
        var expected = written.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value.Select(index => (Index: index, Label: kv.Key))).ToArray();
        for (var i = 0; i < data.Count; i++)
        {
            Assert.Equal(expected[i].Label, data.Label(i));
            var pixels = mnist.Test.Image(expected[i].Index);
            var features = data.Features(i);
            // The same floats as the MNIST pipeline gives (ImageSet.ToDataset: each byte times 1/255).
            for (var p = 0; p < pixels.Length; p++) Assert.Equal(pixels[p] * (1f / 255f), features[p]);
        }
    }

    [Fact]
    public void ShuffleAndSplit_AreNumpysRandomStateShuffle_AsKerasUsesIt()
    {
        // numpy 1.24.2: x = list(range(20)); np.random.RandomState(1337).shuffle(x)
        int[] numpy = [5, 3, 4, 0, 15, 11, 2, 12, 13, 1, 16, 17, 10, 14, 6, 9, 19, 18, 7, 8];
        var order = Enumerable.Range(0, 20).ToArray();
        new NumpyShuffle(1337).Shuffle(order.AsSpan());
        Assert.Equal(numpy, order);
        // numpy 1.24.2: x = list(range(7)); np.random.RandomState(0).shuffle(x)
        var seven = Enumerable.Range(0, 7).ToArray();
        new NumpyShuffle(0).Shuffle(seven.AsSpan());
        Assert.Equal([6, 2, 1, 3, 0, 5, 4], seven);

        // 20 images, each a different gray level, in two classes: file k of the unshuffled order has level 10 k.
        for (var k = 0; k < 20; k++) TestImages.WriteGrayPng(Path.Combine(_root, k < 10 ? "a" : "b", $"{k:D2}.png"), [.. Enumerable.Repeat((byte)(10 * k), 4)], 2, 2);
        var options = new ImageFolderOptions { Height = 2, Width = 2, Channels = 1, Seed = 1337, ValidationSplit = 0.25, Scale = 1 };
        var (training, validation) = ImageFolder.LoadSplit(_root, options);

        // Keras: the shuffled list's last int(0.25 * 20) = 5 files are validation.
        Assert.Equal(numpy[..15].Select(k => 10f * k), Enumerable.Range(0, training.Count).Select(i => training.Features(i)[0]));
        Assert.Equal(numpy[15..].Select(k => 10f * k), Enumerable.Range(0, validation.Count).Select(i => validation.Features(i)[0]));
        Assert.Equal(numpy[15..].Select(k => k < 10 ? 0 : 1), validation.AllLabels.ToArray());
        Assert.Equal(validation.AllLabels.ToArray(), ImageFolder.Load(_root, new ImageFolderOptions
        {
            Height = 2, Width = 2, Channels = 1, Seed = 1337, ValidationSplit = 0.25, Subset = ImageFolderSubset.Validation,
        }).AllLabels.ToArray());
    }

    [Fact]
    public void Channels_AreConvertedAsTensorFlowDecodes_AndImagesResizedBilinearWithHalfPixelCentres()
    {
        // A 4x4 RGB picture: to gray by BT.601 luma; resized to 2x2, each output pixel is the mean of a 2x2 block
        // (tf.image.resize, half-pixel centres: output (0,0) samples input (0.5, 0.5)).
        var random = new Random(3);
        var rgba = new byte[4 * 4 * 4];
        random.NextBytes(rgba);
        for (var p = 0; p < 16; p++) rgba[4 * p + 3] = 255;
        TestImages.WriteRgba(Path.Combine(_root, "x", "rgb.png"), rgba, 4, 4);
        TestImages.WriteRgba(Path.Combine(_root, "y", "rgb.png"), rgba, 4, 4);

        var gray = ImageFolder.Load(_root, new ImageFolderOptions { Height = 2, Width = 2, Channels = 1, Shuffle = false, Scale = 1 });
        var rgb = ImageFolder.Load(_root, new ImageFolderOptions { Height = 4, Width = 4, Channels = 3, Shuffle = false, Scale = 1 });
        float Luma(int p) => MathF.Round((299 * rgba[4 * p] + 587 * rgba[4 * p + 1] + 114 * rgba[4 * p + 2]) / 1000f, MidpointRounding.AwayFromZero);
        for (var y = 0; y < 2; y++)
        {
            for (var x = 0; x < 2; x++)
            {
                var block = new[] { (2 * y) * 4 + 2 * x, (2 * y) * 4 + 2 * x + 1, (2 * y + 1) * 4 + 2 * x, (2 * y + 1) * 4 + 2 * x + 1 };
                Assert.Equal(block.Average(Luma), gray.Features(0)[y * 2 + x], 4);
            }
        }

        for (var p = 0; p < 16; p++)
        {
            for (var c = 0; c < 3; c++) Assert.Equal(rgba[4 * p + c], rgb.Features(0)[3 * p + c]);
        }
    }

    [Fact]
    public void Jpeg_IsDecoded()
    {
        var rgba = Enumerable.Range(0, 8 * 8).SelectMany(_ => new byte[] { 200, 200, 200, 255 }).ToArray();
        TestImages.WriteRgba(Path.Combine(_root, "a", "1.jpg"), rgba, 8, 8, SKEncodedImageFormat.Jpeg);
        TestImages.WriteRgba(Path.Combine(_root, "b", "1.JPEG"), rgba, 8, 8, SKEncodedImageFormat.Jpeg);
        var data = ImageFolder.Load(_root, new ImageFolderOptions { Height = 8, Width = 8, Channels = 1, Shuffle = false, Scale = 1 });
        Assert.Equal(2, data.Count);
        Assert.All(data.AllFeatures.ToArray(), v => Assert.InRange(v, 197, 203));
    }

    [Fact]
    public void ExplicitClassNames_ChooseAndOrderTheClasses()
    {
        foreach (var name in new[] { "cat", "dog", "fox" }) TestImages.WriteGrayPng(Path.Combine(_root, name, "1.png"), [1], 1, 1);
        var data = ImageFolder.Load(_root, new ImageFolderOptions { Height = 1, Width = 1, Channels = 1, Shuffle = false, ClassNames = ["fox", "cat"] });
        Assert.Equal(["fox", "cat"], data.ClassNames);
        Assert.Equal([0, 1], data.AllLabels.ToArray());
    }

    [Fact]
    public void HiddenFilesAndFolders_AndOtherExtensions_AreSkipped_NestedFoldersSearched()
    {
        TestImages.WriteGrayPng(Path.Combine(_root, "a", "deep", "er", "1.png"), [1], 1, 1);
        TestImages.WriteGrayPng(Path.Combine(_root, "b", "2.png"), [2], 1, 1);
        File.WriteAllText(Path.Combine(_root, "b", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(_root, "b", "._2.png"), "AppleDouble");
        TestImages.WriteGrayPng(Path.Combine(_root, ".git", "x.png"), [3], 1, 1);
        var data = ImageFolder.Load(_root, new ImageFolderOptions { Height = 1, Width = 1, Channels = 1, Shuffle = false, Scale = 1 });
        Assert.Equal(["a", "b"], data.ClassNames);
        Assert.Equal([1f, 2f], data.AllFeatures.ToArray());
        Assert.True(ImageFolder.IsImageFolder(_root));
        Assert.False(ImageFolder.IsImageFolder(Path.Combine(_root, "b")));
    }

    [Fact]
    public void BadFolders_AreRefused_NamingTheFolderOrFile()
    {
        var options = new ImageFolderOptions { Height = 4, Width = 4, Channels = 1, Shuffle = false };
        AssertRefused(Path.Combine(_root, "missing"), options, "does not exist", Path.Combine(_root, "missing"));
        AssertRefused(_root, options, "has no class folders", _root);

        TestImages.WriteGrayPng(Path.Combine(_root, "only", "1.png"), [1], 1, 1);
        AssertRefused(_root, options, "has one class folder (only)", _root);

        Directory.CreateDirectory(Path.Combine(_root, "empty"));
        AssertRefused(_root, options, "holds no images", Path.Combine(_root, "empty"));

        TestImages.WriteGrayPng(Path.Combine(_root, "empty", "1.png"), [1], 1, 1);
        var corrupt = Path.Combine(_root, "only", "2.png");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8]);
        AssertRefused(_root, options, "is not an image that can be decoded", corrupt);

        var whole = Path.Combine(_root, "only", "3.png");
        TestImages.WriteGrayPng(whole, [.. Enumerable.Range(0, 64 * 64).Select(i => (byte)i)], 64, 64);
        File.Delete(corrupt);
        var truncated = File.ReadAllBytes(whole);
        File.WriteAllBytes(whole, truncated[..(truncated.Length / 2)]);
        AssertRefused(_root, options, "damaged or truncated", whole);

        TestImages.WriteGrayPng(whole, new byte[64 * 64], 64, 64);
        AssertRefused(_root, new ImageFolderOptions { Height = 4, Width = 4, Channels = 1, Shuffle = false, MaxImagePixels = 1000 }, "is 64x64 pixels", whole);
    }

    [Fact]
    public void SplitWithoutSeed_OrLeavingAPartEmpty_IsRefused()
    {
        for (var k = 0; k < 4; k++) TestImages.WriteGrayPng(Path.Combine(_root, k % 2 == 0 ? "a" : "b", $"{k}.png"), [1], 1, 1);
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(_root, new ImageFolderOptions { Height = 1, Width = 1, Channels = 1, ValidationSplit = 0.5 }));
        AssertRefused(_root, new ImageFolderOptions { Height = 1, Width = 1, Channels = 1, ValidationSplit = 0.1, Seed = 1 }, "leaves no validation images", _root);
    }

    private static void AssertRefused(string directory, ImageFolderOptions options, string fragment, string path)
    {
        var error = Assert.Throws<ImageFolderException>(() => ImageFolder.Load(directory, options));
        Assert.Contains(fragment, error.Message);
        Assert.Contains(path, error.Message);
        Assert.Equal(path, error.Path);
        Assert.DoesNotContain('\n', error.Message);
    }
}

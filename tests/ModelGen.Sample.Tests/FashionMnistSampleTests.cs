using FashionMnistSample;

namespace ModelGen.Sample.Tests;

/// <summary>The Fashion-MNIST sample end to end on small generated IDX files (the real data set is only for the benchmark).</summary>
public sealed class FashionMnistSampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("modelgen-fashion-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Run_PrintsKerasCountsTrainsAndSavesTheMovingStatistics()
    {
        WriteIdx("train", 96, seed: 1, gzip: true);
        WriteIdx("t10k", 32, seed: 2, gzip: false);
        var modelPath = Path.Combine(_folder, "fashion.mgm");
        var output = new StringWriter();

        var accuracy = FashionMnistSample.Program.Run(new Options(_folder, Epochs: 1, BatchSize: 32, Seed: 3, Threads: 1, OutFile: modelPath), output);

        var text = output.ToString();
        Assert.Contains(FashionMnistCnn.Summary, text);
        // Keras's counts: BatchNormalization on 32 and 64 channels holds 2·(32 + 64) = 192 moving statistics.
        Assert.Contains("Total params: 422,026", text);
        Assert.Contains("Non-trainable params: 192", text);
        Assert.Equal(192, FashionMnistCnn.NonTrainableParameterCount);
        Assert.Contains("96 training images, 32 test images", text);
        Assert.Contains("Epoch 1/1", text);
        Assert.Contains("test: loss ", text);

        // Three steps moved the moving statistics away from (0, 1); the file holds them, so the loaded model infers the
        // same: its accuracy on the test images is the one the sample printed.
        var loaded = FashionMnistCnn.Load(modelPath);
        var fresh = new FashionMnistCnn(3);
        foreach (var view in FashionMnistCnn.ModelDescription.ParameterViews.Where(v => !v.Trainable))
        {
            Assert.NotEqual(view.Of(fresh.Parameters).ToArray(), view.Of(loaded.Parameters).ToArray());
        }

        var test = ImageSet.LoadIdx(Path.Combine(_folder, "t10k-images-idx3-ubyte"), Path.Combine(_folder, "t10k-labels-idx1-ubyte")).ToDataset();
        Assert.Equal(accuracy, loaded.Evaluate(test).Accuracy);
    }

    [Fact]
    public void Run_WithoutTheData_NamesThePackageAndTheOption()
    {
        var missing = Path.Combine(_folder, "absent");
        var e = Assert.Throws<DataUnavailableException>(() =>
            FashionMnistSample.Program.Run(new Options(missing, 1, 32, 1, 1, null), TextWriter.Null));
        Assert.Contains("dataset-fashion-mnist", e.Message);
        Assert.Contains("--data", e.Message);
    }

    [Theory]
    [InlineData("--epochs", "0")]
    [InlineData("--batch-size", "x")]
    [InlineData("--colour", "red")]
    [InlineData("--seed")]
    public void Options_RefuseBadArguments(params string[] args) =>
        Assert.Throws<FormatException>(() => Options.Parse(args));

    /// <summary>count random 28x28 images and labels as {prefix}-images-idx3-ubyte(.gz) and {prefix}-labels-idx1-ubyte(.gz).</summary>
    private void WriteIdx(string prefix, int count, int seed, bool gzip)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray();
        var suffix = gzip ? ".gz" : string.Empty;
        using (var images = File.Create(Path.Combine(_folder, $"{prefix}-images-idx3-ubyte{suffix}"))) Idx.Write(images, [count, 28, 28], pixels, gzip);
        using (var file = File.Create(Path.Combine(_folder, $"{prefix}-labels-idx1-ubyte{suffix}"))) Idx.Write(file, [count], labels, gzip);
    }
}

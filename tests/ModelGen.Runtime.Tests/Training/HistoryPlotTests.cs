using System.Buffers.Binary;

namespace ModelGen.Runtime.Tests.Training;

public sealed class HistoryPlotTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mg-plot-tests-" + Guid.NewGuid().ToString("N"));

    public HistoryPlotTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TrainingHistory TenEpochs()
    {
        var history = new TrainingHistory();
        for (int epoch = 1; epoch <= 10; epoch++)
        {
            history.AddEpoch(0.5 / epoch, 1 - 0.1 / epoch, 0.3 / epoch + 0.05, 0.97 - 0.05 / epoch, 2.0);
        }

        return history;
    }

    private static (int Width, int Height) AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5_000, $"a chart with text and lines should not be tiny, got {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);

        // The first chunk is IHDR: width and height as big-endian 32-bit integers.
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void SavePng_WritesPngOfRequestedSize()
    {
        string path = Path.Combine(_folder, "history.png");
        HistoryPlot.SavePng(TenEpochs(), path);
        Assert.Equal((900, 400), AssertPng(path));
        Assert.Equal(new[] { "history.png" }, Directory.GetFiles(_folder).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void SavePng_OneEpochWithoutValidationAndADivergedValue()
    {
        var history = new TrainingHistory();
        history.AddEpoch(double.NaN, 0.1, null, null, 1.0);
        history.AddEpoch(0.7, 0.8, null, null, 1.0);
        string path = Path.Combine(_folder, "small.png");
        HistoryPlot.SavePng(history, path, width: 640, height: 300);
        Assert.Equal((640, 300), AssertPng(path));
    }

    [Fact]
    public void SavePng_EmptyHistory_ThrowsModelGenException()
    {
        var error = Assert.Throws<ModelGenException>(() => HistoryPlot.SavePng(new TrainingHistory(), Path.Combine(_folder, "x.png")));
        Assert.Contains("no epochs", error.Message);
    }

    [Fact]
    public void SavePng_UnwritablePath_ThrowsModelGenException()
    {
        string path = Path.Combine(_folder, "missing", "x.png");
        Assert.Throws<ModelGenException>(() => HistoryPlot.SavePng(TenEpochs(), path));
    }
}

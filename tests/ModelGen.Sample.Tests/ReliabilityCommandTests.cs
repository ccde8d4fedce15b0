using System.Buffers.Binary;
using System.Security.Cryptography;
using LeNet5Sample;
using ModelGen.Runtime.Tests.Reliability;

namespace ModelGen.Sample.Tests;

/// <summary>
/// What a user (or an attacker) can hand the commands: model folders, FIFOs, pipes, devices, damaged pictures, model
/// files with NaN weights, absurd option values, a disk that fills up. Each gets a correct result or one line of error.
/// </summary>
public sealed partial class SampleCommandTests
{
    [Fact]
    public void Predict_ModelFolder_UsesTheModelFileInside()
    {
        var result = Cli.Run("predict", "--model", fixture.OutDirectory, "--index", "7");
        Assert.True(result.ExitCode == 0, result.ToString());
        AssertPrediction(result, 7);
    }

    [Fact]
    public void Evaluate_ModelFolder_UsesTheModelFileInside()
    {
        var result = Cli.Run("evaluate", "--model", fixture.OutDirectory);
        Assert.True(result.ExitCode == 0, result.ToString());
        AssertMatrixMatches(result, fixture.Mnist.FinalEvaluation);
    }

    [Fact]
    public void TrainResume_OutGivenAsTheModelFile_ResumesThatModel()
    {
        var folder = CopyOfTrainedModel("resume-file");
        var model = Path.Combine(folder, "model.mgm");

        var result = Cli.Run("train", "--resume", "--epochs", "1", "--device", "cpu", "--out", model);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"resuming {model} after 1 epoch(s)", result.Out);
        Assert.Equal(2, LeNet5.Load(model).History!.Epochs);
        Assert.Equal(2, TrainingHistory.Load(Path.Combine(folder, "history.json")).Epochs);
    }

    [Fact]
    public void Predict_ModelIsAFifo_FailsWithOneLineInsteadOfWaiting()
    {
        var fifo = SpecialFiles.MakeFifo(fixture.NewPath("model.mgm"));
        var result = SpecialFiles.Finishes(() => Cli.Run("predict", "--model", fifo, "--index", "1"), fifo);
        Cli.AssertOneLineError(result, "FIFO");
    }

    [Fact]
    public void Predict_ModelIsAPipe_FailsWithOneLine()
    {
        var (path, pipe) = SpecialFiles.Pipe(File.ReadAllBytes(fixture.ModelPath));
        using (pipe)
        {
            var result = SpecialFiles.Finishes(() => Cli.Run("predict", "--model", path, "--index", "1"));
            Cli.AssertOneLineError(result, "pipe");
        }
    }

    [Fact]
    public void Predict_SettingsFileIsAFifo_FailsWithOneLineInsteadOfWaiting()
    {
        // (No "fifo" in the paths: the check below is on the message, not on a path that happens to hold the word.)
        var folder = CopyOfTrainedModel("settings-special");
        var settings = Path.Combine(folder, "model.settings.json");
        File.Delete(settings);
        SpecialFiles.MakeFifo(settings);

        var result = SpecialFiles.Finishes(() => Cli.Run("predict", "--model", Path.Combine(folder, "model.mgm"), "--index", "1"), settings);

        Cli.AssertOneLineError(result, "FIFO");
    }

    [Theory]
    [InlineData("/dev/zero", "character device")]
    [InlineData("fifo", "FIFO")]
    public void Predict_ImageIsNotARegularFile_FailsWithOneLine(string image, string expected)
    {
        var path = image == "fifo" ? SpecialFiles.MakeFifo(fixture.NewPath("digit.png")) : image;
        var result = SpecialFiles.Finishes(() => Cli.Run("predict", "--model", fixture.ModelPath, "--image", path), image == "fifo" ? path : null);
        Cli.AssertOneLineError(result, expected);
    }

    [Fact]
    public void Predict_TruncatedPng_FailsWithOneLine()
    {
        var path = fixture.NewPath("truncated.png");
        WriteDarkOnWhitePng(fixture.Mnist.FinalEvaluation.Image(3), 200, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);

        Cli.AssertOneLineError(Cli.Run("predict", "--model", fixture.ModelPath, "--image", path), "truncated");
    }

    [Theory]
    [InlineData("predict", "--index", "2")]
    [InlineData("evaluate")]
    public void ModelWithANaNWeight_FailsWithOneLineNamingTheTensor(params string[] command)
    {
        var folder = CopyOfTrainedModel("nan-" + command[0]);
        var model = Path.Combine(folder, "model.mgm");
        var bytes = File.ReadAllBytes(model);
        var headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20));
        var bias = LeNet5.ModelDescription.GetView("dense_2/bias");
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(24 + headerLength + 4 * (bias.Offset + 3)), float.NaN);
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).CopyTo(bytes.AsSpan(bytes.Length - 32)); // checksum made right
        File.WriteAllBytes(model, bytes);

        var result = Cli.Run([command[0], "--model", model, .. command[1..]]);

        Cli.AssertOneLineError(result, "dense_2/bias[3]");
        Assert.DoesNotContain("accuracy", result.Out);
    }

    [Fact]
    public void Evaluate_DataFolderWhoseHeaderClaimsGigabytes_FailsWithOneLine()
    {
        var folder = Directory.CreateDirectory(fixture.NewPath("bomb")).FullName;
        var train = fixture.Mnist.Train.Slice(0, 10);
        WriteIdx(folder, "train-images-idx3-ubyte.gz", [10, 28, 28], train.Pixels);
        WriteIdx(folder, "train-labels-idx1-ubyte.gz", [10], train.Labels);
        WriteIdx(folder, "t10k-labels-idx1-ubyte.gz", [10], train.Labels);
        // A header announcing 2.7 million images, then far fewer bytes: refused from the header.
        var header = new byte[16];
        header[2] = 8;
        header[3] = 3;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 2_700_000);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
        using (var file = File.Create(Path.Combine(folder, "t10k-images-idx3-ubyte.gz")))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(header);
            gzip.Write(new byte[1 << 20]);
        }

        Cli.AssertOneLineError(Cli.Run("evaluate", "--model", fixture.ModelPath, "--data", folder), "at most");
    }

    [Fact]
    public void Evaluate_DataFolderWithAFifo_FailsWithOneLineInsteadOfWaiting()
    {
        var folder = Directory.CreateDirectory(fixture.NewPath("special-data")).FullName;
        foreach (var name in MnistData.FileNames) SpecialFiles.MakeFifo(Path.Combine(folder, name));
        var first = Path.Combine(folder, MnistData.FileNames[0]);

        var result = SpecialFiles.Finishes(() => Cli.Run("evaluate", "--model", fixture.ModelPath, "--data", folder), first);

        Cli.AssertOneLineError(result, "FIFO");
    }

    [Theory]
    [InlineData("train", "--threads", "20000")]
    [InlineData("train", "--threads", "257")]
    [InlineData("evaluate", "--threads", "20000")]
    public void ThreadCountAbove256_FailsWithOneLineAndUsageCode(params string[] args)
    {
        var result = Cli.Run(args);
        Cli.AssertOneLineError(result, "--threads");
        Assert.Contains("256", result.Error);
        Assert.Equal(Program.ExitUsage, result.ExitCode);
    }

    [Fact]
    public void Train_BatchSizeIntMaxValue_TrainsOneStepPerEpoch()
    {
        var result = Cli.Run("train", "--limit", "100", "--epochs", "1", "--batch-size", "2147483647", "--device", "cpu", "--out", fixture.NewPath("huge-batch"));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("1/1 [", result.Out);
    }

    [Fact]
    public void Train_SettingsCannotBeSaved_SaysWhatWasSavedAndWhatWasNot_AndLeavesNoTempFile()
    {
        var folder = Directory.CreateDirectory(fixture.NewPath("blocked")).FullName;
        Directory.CreateDirectory(Path.Combine(folder, "model.settings.json")); // a folder where the settings file goes

        var result = Cli.Run("train", "--limit", "100", "--epochs", "1", "--device", "cpu", "--out", folder);

        Cli.AssertOneLineError(result, "model.settings.json");
        var line = result.ErrorLines[0];
        Assert.Contains($"saved: {Path.Combine(folder, "model.mgm")}", line);
        Assert.Contains("not saved:", line);
        Assert.Contains("history.json", line[line.IndexOf("not saved:", StringComparison.Ordinal)..]);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        Assert.Equal(1, LeNet5.Load(Path.Combine(folder, "model.mgm")).History!.Epochs);
    }

    [Fact]
    public void Train_DiskFullWhileSavingTheSettings_SaysWhatWasSavedAndWhatWasNot_AndLeavesNoTempFile()
    {
        var folder = Directory.CreateDirectory(fixture.NewPath("full-disk")).FullName;
        var settings = Path.Combine(folder, "model.settings.json");
        TrainingSettings.WrapSaveStream = (path, stream) => path == settings ? new DiskFullStream() : stream;
        CliResult result;
        try
        {
            result = Cli.Run("train", "--limit", "100", "--epochs", "1", "--device", "cpu", "--out", folder);
        }
        finally
        {
            TrainingSettings.WrapSaveStream = null;
        }

        Cli.AssertOneLineError(result, "No space left on device");
        Assert.Contains($"saved: {Path.Combine(folder, "model.mgm")}; not saved: {settings}, {Path.Combine(folder, "history.json")}, {Path.Combine(folder, "history.png")}", result.ErrorLines[0]);
        Assert.Equal(["model.mgm"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
    }

    /// <summary>Every write fails as on a full disk.</summary>
    private sealed class DiskFullStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("No space left on device");
        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("No space left on device");
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>A copy of the trained model's folder (model, settings, history), to change without touching the fixture.</summary>
    private string CopyOfTrainedModel(string name)
    {
        var folder = Directory.CreateDirectory(fixture.NewPath(name)).FullName;
        foreach (var file in Directory.GetFiles(fixture.OutDirectory)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return folder;
    }
}

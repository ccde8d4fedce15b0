using ModelGen.Numerics.Tests.Models;

namespace ModelGen.Numerics.Tests;

/// <summary>Generated Save/Load: what comes back is bit-identical and predicts identically; other networks are refused.</summary>
public sealed class ModelFileRoundTripTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("modelgen-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Dataset RandomData(int count, int seed)
    {
        var random = new Random(seed);
        var features = new float[count * LeNet5.InputLength];
        for (var i = 0; i < features.Length; i++) features[i] = (float)random.NextDouble();
        var labels = Enumerable.Range(0, count).Select(_ => random.Next(10)).ToArray();
        return new Dataset(features, labels, LeNet5.InputLength);
    }

    [Fact]
    public void SaveThenLoad_GivesBitIdenticalParametersOptimizerHistoryAndPredictions()
    {
        var data = RandomData(40, 1);
        var model = new LeNet5(seed: 3);
        model.Fit(data, epochs: 2, batchSize: 16, seed: 5, progress: new ProgressReporter(TextWriter.Null, live: false));
        var path = Path.Combine(_folder, "model.mgm");

        model.Save(path);
        var loaded = LeNet5.Load(path);

        Assert.Equal(
            model.Parameters.Select(BitConverter.SingleToInt32Bits),
            loaded.Parameters.Select(BitConverter.SingleToInt32Bits));
        var before = model.Optimizer!.GetState();
        var after = loaded.Optimizer!.GetState();
        Assert.Equal(before.Kind, after.Kind);
        Assert.Equal(before.Iterations, after.Iterations);
        Assert.Equal(before.Slots.Length, after.Slots.Length);
        for (var s = 0; s < before.Slots.Length; s++) Assert.Equal(before.Slots[s], after.Slots[s]);
        Assert.Equal(model.History!.Loss, loaded.History!.Loss);
        for (var i = 0; i < data.Count; i++) Assert.Equal(model.Predict(data.Features(i)), loaded.Predict(data.Features(i)));

        // Training continues identically from the loaded copy.
        model.Fit(data, epochs: 1, batchSize: 16, seed: 5, progress: new ProgressReporter(TextWriter.Null, live: false));
        loaded.Fit(data, epochs: 1, batchSize: 16, seed: 5, progress: new ProgressReporter(TextWriter.Null, live: false));
        Assert.Equal(model.Parameters, loaded.Parameters);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadFromStream_SeekableOrNot_GivesWhatLoadFromThePathGives(bool seekable)
    {
        var data = RandomData(20, 7);
        var model = new LeNet5(seed: 8);
        model.Fit(data, epochs: 1, batchSize: 8, seed: 9, progress: new ProgressReporter(TextWriter.Null, live: false));
        var path = Path.Combine(_folder, "model.mgm");
        model.Save(path);
        var bytes = File.ReadAllBytes(path);

        using Stream stream = seekable ? new MemoryStream(bytes) : new ForwardOnlyStream(bytes);
        var fromStream = LeNet5.Load(stream, "upload.mgm");
        var fromPath = LeNet5.Load(path);

        Assert.Equal(
            fromPath.Parameters.Select(BitConverter.SingleToInt32Bits),
            fromStream.Parameters.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(fromPath.Optimizer!.GetState().Iterations, fromStream.Optimizer!.GetState().Iterations);
        Assert.Equal(fromPath.History!.Loss, fromStream.History!.Loss);
        Assert.Equal(fromPath.Predict(data.Features(0)), fromStream.Predict(data.Features(0)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadFromStream_BadBytes_RefusedWithTheStreamsName(bool seekable)
    {
        var path = Path.Combine(_folder, "model.mgm");
        new LeNet5(seed: 1).Save(path);
        var good = File.ReadAllBytes(path);
        var validPath = Path.Combine(_folder, "valid.mgm");
        new LeNet5Valid(seed: 1).Save(validPath);

        (byte[] Bytes, ModelFileError Reason)[] cases =
        [
            ("<!DOCTYPE html><html></html>"u8.ToArray(), ModelFileError.NotAModelFile),
            (good[..(good.Length / 2)], ModelFileError.Truncated),
            ([.. good, 0], ModelFileError.Corrupt),
            ([], ModelFileError.Truncated),
            (File.ReadAllBytes(validPath), ModelFileError.ArchitectureMismatch),
        ];
        foreach (var (bytes, reason) in cases)
        {
            using Stream stream = seekable ? new MemoryStream(bytes) : new ForwardOnlyStream(bytes);
            var error = Assert.Throws<ModelFileException>(() => LeNet5.Load(stream, "picked.mgm"));
            Assert.Equal(reason, error.Reason);
            Assert.Equal("picked.mgm", error.FilePath);
            Assert.Contains("'picked.mgm'", error.Message);
        }
    }

    [Fact]
    public void LoadFromStream_EndlessStreamAfterAValidPrefix_ReadsNoFurtherThanItsDeclaredLength()
    {
        var path = Path.Combine(_folder, "model.mgm");
        new LeNet5(seed: 1).Save(path);
        var good = File.ReadAllBytes(path);
        using var endless = new ForwardOnlyStream(good, endless: true);

        var error = Assert.Throws<ModelFileException>(() => LeNet5.Load(endless));

        Assert.Equal(ModelFileError.Corrupt, error.Reason);
        Assert.Equal("stream", error.FilePath);
        Assert.Equal(good.Length + 1, endless.BytesRead);
    }

    /// <summary>A stream that cannot seek (as a download or upload stream): its bytes, then, if endless, zeros without end.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes, bool endless = false) : Stream
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = endless ? count : (int)Math.Min(count, bytes.Length - BytesRead);
            for (var i = 0; i < n; i++) buffer[offset + i] = BytesRead + i < bytes.Length ? bytes[BytesRead + i] : (byte)0;
            BytesRead += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void Load_OfAnotherArchitecture_IsRefusedNamingBoth()
    {
        var path = Path.Combine(_folder, "valid.mgm");
        new LeNet5Valid(seed: 1).Save(path);

        var error = Assert.Throws<ModelFileException>(() => LeNet5.Load(path));

        Assert.Equal(ModelFileError.ArchitectureMismatch, error.Reason);
        Assert.Contains(typeof(LeNet5Valid).FullName!, error.Message);
        Assert.Contains(typeof(LeNet5).FullName!, error.Message);
    }

    [Fact]
    public async Task Save_WhileFitRunsOnAnotherThread_WritesFilesThatAllLoad()
    {
        // Batch size 1: thousands of small steps, so every save overlaps several updates of the weights and moments.
        var data = RandomData(64, 2);
        var model = new LeNet5(seed: 4);
        using var stop = new CancellationTokenSource();
        var fit = Task.Factory.StartNew(() =>
        {
            try
            {
                model.Fit(data, epochs: 10_000, batchSize: 1, seed: 6, progress: new ProgressReporter(TextWriter.Null, live: false), cancellationToken: stop.Token);
            }
            catch (OperationCanceledException)
            {
                // stopped by the test
            }
        }, TaskCreationOptions.LongRunning);

        var iterations = new List<long>();
        try
        {
            while (model.Optimizer is null) Thread.Sleep(1);
            for (var i = 0; i < 16; i++)
            {
                var path = Path.Combine(_folder, $"snapshot-{i}.mgm");
                model.Save(path);
                var loaded = LeNet5.Load(path); // a file that Save reports written always loads
                iterations.Add(loaded.Optimizer!.Iterations);
                Assert.True(loaded.Parameters.All(float.IsFinite));
            }
        }
        finally
        {
            stop.Cancel();
            await fit.WaitAsync(TimeSpan.FromMinutes(2));
        }

        Assert.True(fit.IsCompletedSuccessfully, "Fit did not stop after its cancellation");
        Assert.True(iterations[^1] > iterations[0], $"training did not run while saving (iterations {string.Join(", ", iterations)})");
    }
}

using System.IO.Compression;
using ModelGen.Runtime.Tests.Data;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>Readers bound what they read and allocate by what the header or the format allows, gzip included.</summary>
public sealed class ReaderBoundTests : IDisposable
{
    private readonly Data.TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void IdxRead_HeaderClaimingABillionImages_NamesDimensionZeroAndAllocatesNothingForThem()
    {
        var path = _folder.File("train-images-idx3-ubyte");
        File.WriteAllBytes(path, TinyMnist.IdxBytes([1_000_000_000, 28, 28], new byte[100]));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<IdxFormatException>(() => Idx.Read(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("dimension 0", error.Message);
        Assert.Contains("1000000000", error.Message);
        Assert.DoesNotContain("dimension 1", error.Message);
        Assert.True(allocated < 1 << 20, $"Read allocated {allocated:N0} bytes for a file of 116 bytes");
    }

    [Fact]
    public void IdxRead_GzipWhoseHeaderClaimsMoreThanTheLimit_IsRefusedBeforeItsDataIsDecompressed()
    {
        // 2,700,000 images of 28x28 (2.1 GB), as a gzip bomb claims: refused from the header alone.
        var path = _folder.File("t10k-images-idx3-ubyte.gz");
        File.WriteAllBytes(path, TinyMnist.Gzip(TinyMnist.IdxBytes([2_700_000, 28, 28], new byte[1 << 20])));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<IdxFormatException>(() => Idx.Read(path));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("2700000x28x28", error.Message);
        Assert.Contains("at most", error.Message);
        Assert.True(allocated < 4 << 20, $"Read allocated {allocated:N0} bytes before refusing");
    }

    [Fact]
    public void IdxRead_GzipThatInflatesFarBeyondItsHeader_StopsReadingSoonAfterTheData()
    {
        // A 10-item label file followed by 256 MB of zeros: the reader must not inflate all of them to count them.
        var path = _folder.File("train-labels-idx1-ubyte.gz");
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            gzip.Write(TinyMnist.IdxBytes([10], new byte[10]));
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 256; i++) gzip.Write(zeros);
        }

        using var counting = new CountingStream(File.OpenRead(path));
        var error = Assert.Throws<IdxFormatException>(() => Idx.Read(counting, path));

        Assert.Contains("trailing bytes", error.Message);
        Assert.True(counting.BytesRead < counting.Length / 4, $"read {counting.BytesRead:N0} of {counting.Length:N0} compressed bytes");
    }

    [Fact]
    public void IdxRead_AnIdxFileOfUsualSize_StillReads()
    {
        // Guards the limits above: 60,000 images of 28x28 (the MNIST training set's size) read as before.
        var path = _folder.File("big-idx3-ubyte.gz");
        var data = new byte[60_000 * 28 * 28];
        data[^1] = 7;
        File.WriteAllBytes(path, TinyMnist.Gzip(TinyMnist.IdxBytes([60_000, 28, 28], data)));

        var array = Idx.Read(path);

        Assert.Equal([60_000, 28, 28], array.Dimensions);
        Assert.Equal(7, array.Data[^1]);
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            BytesRead += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

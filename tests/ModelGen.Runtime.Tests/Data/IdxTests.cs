namespace ModelGen.Runtime.Tests.Data;

public class IdxTests
{
    [Fact]
    public void Read_HandWrittenRawFile_GivesDimensionsAndData()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("labels");
        File.WriteAllBytes(path, [0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9]);

        var array = Idx.Read(path);

        Assert.Equal([3], array.Dimensions);
        Assert.Equal([7, 8, 9], array.Data);
    }

    [Fact]
    public void Write_ProducesBigEndianHeaderThenData()
    {
        using var buffer = new MemoryStream();
        Idx.Write(buffer, [2, 1, 258], new byte[516]);

        Assert.Equal([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2], buffer.ToArray()[..16]);
        Assert.Equal(16 + 516, buffer.Length);
    }

    [Theory]
    [InlineData(new[] { 5 }, false)]
    [InlineData(new[] { 5 }, true)]
    [InlineData(new[] { 3, 4, 2 }, false)]
    [InlineData(new[] { 3, 4, 2 }, true)]
    [InlineData(new[] { 2, 3, 2, 2 }, true)]
    public void WriteThenRead_RoundTripsExactly_DetectingGzipByContentNotName(int[] dims, bool gzip)
    {
        using var tmp = new TempFolder();
        var data = new byte[dims.Aggregate(1, (a, b) => a * b)];
        new Random(dims.Length).NextBytes(data);
        // Misleading names: compression must be recognised from the bytes.
        var path = tmp.File(gzip ? "data-idx" : "data-idx.gz");
        using (var file = File.Create(path)) Idx.Write(file, dims, data, gzip);

        var header = File.ReadAllBytes(path)[..2];
        Assert.Equal(gzip, header[0] == 0x1f && header[1] == 0x8b);
        var back = Idx.Read(path);
        Assert.Equal(dims, back.Dimensions);
        Assert.Equal(data, back.Data);

        using var stream = new MemoryStream(File.ReadAllBytes(path));
        Assert.Equal(data, Idx.Read(stream).Data);
    }

    [Fact]
    public void Read_TruncatedLabels_NamesFileAndBothCounts()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("t10k-labels-idx1-ubyte");
        File.WriteAllBytes(path, TinyMnist.IdxBytes([10], new byte[10])[..^2]);

        var error = Assert.Throws<IdxFormatException>(() => Idx.Read(path));

        Assert.Contains("t10k-labels-idx1-ubyte: truncated: header says 10 items, file holds 8 bytes of data", error.Message);
        Assert.Contains("download it again", error.Message);
        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void Read_TruncatedGzipImages_DescribesItemShape()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("images.gz");
        File.WriteAllBytes(path, TinyMnist.Gzip(TinyMnist.IdxBytes([4, 2, 3], new byte[24])[..^4]));

        var error = Assert.Throws<IdxFormatException>(() => Idx.Read(path));

        Assert.Contains("truncated: header says 4 items of 2x3 bytes, file holds 20 bytes of data", error.Message);
    }

    [Theory]
    [InlineData(new byte[0], "the file is empty")]
    [InlineData(new byte[] { 0, 0, 8 }, "truncated: the file holds 3 bytes, less than an IDX header")]
    [InlineData(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0 }, "truncated: the header announces 3 dimensions but the file ends after 6 of their 12 bytes")]
    [InlineData(new byte[] { 0x50, 0x4b, 3, 4, 0, 0 }, "not an IDX file: it starts with 0x50 0x4b")]
    [InlineData(new byte[] { 0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0 }, "data type 0x0d (32-bit float) is not supported")]
    [InlineData(new byte[] { 0, 0, 8, 0 }, "rank 0 is not supported")]
    [InlineData(new byte[] { 0, 0, 8, 5, 0, 0, 0, 1 }, "rank 5 is not supported")]
    [InlineData(new byte[] { 0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 0 }, "dimension 1 is 0")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3, 4, 5 }, "3 trailing bytes: header says 2 items (2 bytes of data), file holds 5")]
    public void Read_MalformedFile_SaysWhatIsWrong(byte[] content, string expected)
    {
        foreach (var gzip in new[] { false, true })
        {
            using var stream = new MemoryStream(gzip ? TinyMnist.Gzip(content) : content);
            var error = Assert.Throws<IdxFormatException>(() => Idx.Read(stream, "sample-file"));
            Assert.StartsWith("sample-file: ", error.Message);
            Assert.Contains(expected, error.Message);
        }
    }

    [Fact]
    public void Read_CorruptGzip_IsAFormatError()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("train-images-idx3-ubyte.gz");
        // A gzip header followed by bytes that are not deflate data.
        byte[] corrupt = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        File.WriteAllBytes(path, corrupt);

        var error = Assert.Throws<IdxFormatException>(() => Idx.Read(path));

        Assert.Contains("train-images-idx3-ubyte.gz: corrupt gzip data", error.Message);
        Assert.IsType<InvalidDataException>(error.InnerException);
    }

    [Fact]
    public void Read_DamagedOrCutGzip_NeverReturnsData()
    {
        var data = new byte[4000];
        new Random(7).NextBytes(data);
        var gz = TinyMnist.Gzip(TinyMnist.IdxBytes([4000], data));
        var flipped = (byte[])gz.Clone();
        for (var i = 100; i < 110; i++) flipped[i] ^= 0x5a;

        var badCrc = (byte[])gz.Clone();
        badCrc[^6] ^= 1;

        // (A gzip stream cut inside its 8-byte trailer still holds all data; .NET then skips the CRC check.)
        foreach (var bad in new[] { gz[..(gz.Length / 2)], gz[..(gz.Length - 30)], flipped, badCrc })
        {
            using var stream = new MemoryStream(bad);
            Assert.Throws<IdxFormatException>(() => Idx.Read(stream, "damaged"));
        }
    }

    [Fact]
    public void Read_MissingFile_IsDataUnavailable()
    {
        using var tmp = new TempFolder();
        var error = Assert.Throws<DataUnavailableException>(() => Idx.Read(tmp.File("nope")));
        Assert.Contains("nope: cannot open the IDX file", error.Message);
    }

    [Fact]
    public void Write_RejectsBadShapes()
    {
        using var buffer = new MemoryStream();
        Assert.Throws<ArgumentException>(() => Idx.Write(buffer, [2, 3], new byte[5]));
        Assert.Throws<ArgumentException>(() => Idx.Write(buffer, [0], []));
        Assert.Throws<ArgumentException>(() => Idx.Write(buffer, [1, 1, 1, 1, 1], new byte[1]));
        Assert.Equal(0, buffer.Length);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Persistence;

public sealed class ModelFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string SaveSmall(string name = "model.mgm", bool withOptimizer = true, bool withHistory = true)
    {
        var path = _folder.File(name);
        ModelFile.Save(path, Content(Small(), withOptimizer: withOptimizer, withHistory: withHistory));
        return path;
    }

    private static ModelFileException ReadFails(string path, ModelFileError reason)
    {
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Read(path));
        Assert.Equal(reason, error.Reason);
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message);
        return error;
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void SaveThenRead_ReturnsBitIdenticalContent(bool withOptimizer, bool withHistory)
    {
        var original = Content(Small(), withOptimizer: withOptimizer, withHistory: withHistory);
        var path = _folder.File("model.mgm");

        ModelFile.Save(path, original);
        var read = ModelFile.Read(path);

        AssertIdentical(original, read);
        Assert.Equal(withOptimizer, read.Optimizer is not null);
        Assert.Equal(withHistory, read.HistoryJson is not null);
    }

    [Fact]
    public void SaveThenRead_EmptyHistoryAndNoParameters_RoundTrip()
    {
        var original = new ModelFileContent
        {
            ModelType = "Tests.Empty",
            Fingerprint = "00",
            Architecture = "Input(1)",
            ParameterCount = 0,
            Parameters = [],
            Optimizer = new OptimizerState("sgd", 0, [], []),
            HistoryJson = "",
        };
        var path = _folder.File("empty.mgm");

        ModelFile.Save(path, original);

        AssertIdentical(original, ModelFile.Read(path));
    }

    [Fact]
    public void Save_WritesDocumentedLayout()
    {
        var content = Content(Small());
        var path = _folder.File("model.mgm");
        ModelFile.Save(path, content);
        var bytes = File.ReadAllBytes(path);

        Assert.Equal(new byte[] { 0x89, 0x4D, 0x47, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal((ulong)bytes.Length, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)), bytes[^32..]);

        // Parameters follow the header as raw little-endian float32, then Adam's m and v, then the UTF-8 history.
        var offset = 24 + HeaderLength(bytes);
        foreach (var section in new[] { content.Parameters, content.Optimizer!.Slots[0], content.Optimizer.Slots[1] })
        {
            for (var i = 0; i < section.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(section[i]), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 4 * i)));
            }
            offset += 4 * section.Length;
        }
        var history = Encoding.UTF8.GetBytes(content.HistoryJson!);
        Assert.Equal(history, bytes[offset..(offset + history.Length)]);
        Assert.Equal(bytes.Length - 32, offset + history.Length);
    }

    [Fact]
    public void Save_CreatesMissingFolders()
    {
        var path = Path.Combine(_folder.Path, "a", "b", "lenet5.mgm");
        var original = Content(Small());

        ModelFile.Save(path, original);

        AssertIdentical(original, ModelFile.Read(path));
    }

    [Fact]
    public void Save_OverExistingFile_ReplacesItAndLeavesNoTempFile()
    {
        var path = SaveSmall();
        var replacement = Content(Small(), seed: 99);

        ModelFile.Save(path, replacement);

        AssertIdentical(replacement, ModelFile.Read(path));
        Assert.Equal(["model.mgm"], Directory.GetFileSystemEntries(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_InconsistentContent_ThrowsArgumentExceptionAndWritesNothing()
    {
        var path = _folder.File("model.mgm");
        var wrongCount = Content(Small());
        wrongCount.ParameterCount = 22;
        var shortSlot = Content(Small());
        shortSlot.Optimizer = shortSlot.Optimizer! with { Slots = [new float[23], new float[5]] };

        Assert.Contains("ParameterCount is 22", Assert.Throws<ArgumentException>(() => ModelFile.Save(path, wrongCount)).Message);
        Assert.Contains("slot 1 holds 5", Assert.Throws<ArgumentException>(() => ModelFile.Save(path, shortSlot)).Message);
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void Read_MissingFile_ReportsNotFound()
    {
        var error = ReadFails(_folder.File("nope.mgm"), ModelFileError.NotFound);
        Assert.Contains("does not exist", error.Message);
        ReadFails(Path.Combine(_folder.Path, "no-folder", "model.mgm"), ModelFileError.NotFound);
    }

    [Fact]
    public void Read_Folder_ReportsNotAModelFile()
    {
        var error = ReadFails(_folder.Path, ModelFileError.NotAModelFile);
        Assert.Contains("is a folder", error.Message);
    }

    [Fact]
    public void Read_RandomBytes_ReportsNotAModelFile()
    {
        var path = _folder.File("random.bin");
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        bytes[0] = 0x50; // keep the first byte off the signature's 0x89
        File.WriteAllBytes(path, bytes);

        var error = ReadFails(path, ModelFileError.NotAModelFile);
        Assert.Contains("not a ModelGen model file", error.Message);
    }

    [Fact]
    public void Read_TextFile_ReportsNotAModelFile()
    {
        var path = _folder.File("notes.txt");
        File.WriteAllText(path, "{\"weights\": [1, 2, 3]}");

        ReadFails(path, ModelFileError.NotAModelFile);
    }

    [Fact]
    public void Read_EmptyFile_ReportsTruncated()
    {
        var path = _folder.File("empty.mgm");
        File.WriteAllBytes(path, []);

        var error = ReadFails(path, ModelFileError.Truncated);
        Assert.Contains("empty", error.Message);
    }

    [Theory]
    [InlineData(3)]     // inside the signature
    [InlineData(8)]     // signature only
    [InlineData(23)]    // inside the fixed prefix
    [InlineData(40)]    // inside the header
    [InlineData(200)]   // inside the parameters
    [InlineData(-1)]    // last checksum byte missing
    public void Read_TruncatedFile_ReportsTruncated(int keep)
    {
        var path = SaveSmall();
        var bytes = File.ReadAllBytes(path);
        var length = keep >= 0 ? keep : bytes.Length + keep;
        File.WriteAllBytes(path, bytes[..length]);

        var error = ReadFails(path, ModelFileError.Truncated);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Read_FileWithExtraBytes_ReportsCorrupt()
    {
        var path = SaveSmall();
        File.AppendAllText(path, "x");

        ReadFails(path, ModelFileError.Corrupt);
    }

    [Fact]
    public void Read_FlippedByteInHeader_ReportsCorrupt()
    {
        var path = SaveSmall();
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.UTF8.GetBytes(SmallArchitecture);
        var at = bytes.AsSpan().IndexOf(text);
        Assert.True(at > 24 && at < 24 + HeaderLength(bytes));
        bytes[at + 15] ^= 0x01; // "Dense(3" becomes "Dense(2": the header still decodes, only the checksum can tell
        File.WriteAllBytes(path, bytes);

        var error = ReadFails(path, ModelFileError.Corrupt);
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void Read_FlippedBitInParameters_ReportsCorrupt()
    {
        var path = SaveSmall();
        var bytes = File.ReadAllBytes(path);
        bytes[24 + HeaderLength(bytes) + 4 * 10] ^= 0x01; // lowest mantissa bit of parameter 10
        File.WriteAllBytes(path, bytes);

        ReadFails(path, ModelFileError.Corrupt);
    }

    [Fact]
    public void Read_FlippedByteInChecksum_ReportsCorrupt()
    {
        var path = SaveSmall();
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x80;
        File.WriteAllBytes(path, bytes);

        ReadFails(path, ModelFileError.Corrupt);
    }

    [Fact]
    public void Read_NewerFormat_ReportsNewerFormatAndTellsToUpdate()
    {
        var path = Path.Combine(_folder.Path, "lenet5", "model.mgm");
        ModelFile.Save(path, Content(Small()));
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 3);
        Reseal(bytes);
        File.WriteAllBytes(path, bytes);

        var error = ReadFails(path, ModelFileError.NewerFormat);
        Assert.Contains("newer ModelGen (format 3; this build reads up to 1)", error.Message);
        Assert.Contains("update the ModelGen package", error.Message);
    }

    [Fact]
    public void Read_DamagedVersionField_ReportsCorruptNotNewerFormat()
    {
        var path = SaveSmall();
        var bytes = File.ReadAllBytes(path);
        bytes[9] = 0x40; // version 1 -> 16385, checksum left as it was
        File.WriteAllBytes(path, bytes);

        ReadFails(path, ModelFileError.Corrupt);
    }

    [Theory]
    [InlineData(int.MaxValue, 0, -1)]
    [InlineData(1 << 20, 64, -1)]
    [InlineData(0, 0, int.MaxValue)]
    [InlineData(int.MaxValue, 64, int.MaxValue)]
    public void Read_CraftedHeaderWithHugeSizes_ReportsCorruptWithoutAllocatingThem(int parameterCount, int slots, int historyLength)
    {
        // A crafted file passes the checksum; its claimed sizes must be refused from the real file size alone.
        var path = _folder.File("crafted.mgm");
        File.WriteAllBytes(path, CraftFile(parameterCount, slots, historyLength));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = ReadFails(path, ModelFileError.Corrupt);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("section sizes", error.Message);
        Assert.True(allocated < 1_000_000, $"Read allocated {allocated} bytes");
    }

    [Fact]
    public void Read_CraftedHeaderWithConsistentSizes_IsAccepted()
    {
        // Guards the test above: the crafting helper makes files the reader accepts when the sizes are honest.
        var path = _folder.File("crafted.mgm");
        File.WriteAllBytes(path, CraftFile(0, 0, -1));

        var content = ModelFile.Read(path);

        Assert.Equal("Crafted", content.ModelType);
        Assert.Empty(content.Parameters);
    }

    private static byte[] CraftFile(int parameterCount, int slots, int historyLength)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        writer.WriteMapHeader(7);
        writer.Write("modelType"); writer.Write("Crafted");
        writer.Write("fingerprint"); writer.Write("ff");
        writer.Write("architecture"); writer.Write("Input(1)");
        writer.Write("parameterCount"); writer.Write(parameterCount);
        writer.Write("savedAt"); writer.WriteArrayHeader(2); writer.Write(0L); writer.Write(0);
        writer.Write("optimizer");
        if (slots == 0)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteMapHeader(4);
            writer.Write("kind"); writer.Write("adam");
            writer.Write("iterations"); writer.Write(1L);
            writer.Write("hyperparameters"); writer.WriteArrayHeader(0);
            writer.Write("slots"); writer.Write(slots);
        }
        writer.Write("history");
        if (historyLength < 0) writer.WriteNil(); else writer.Write(historyLength);
        writer.Flush();

        var header = buffer.WrittenSpan;
        var file = new byte[24 + header.Length + 32];
        new byte[] { 0x89, 0x4D, 0x47, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(12), (ulong)file.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), (uint)header.Length);
        header.CopyTo(file.AsSpan(24));
        Reseal(file);
        return file;
    }

    [Fact]
    public void Load_MatchingModel_ReturnsContent()
    {
        var original = Content(Small());
        var path = _folder.File("model.mgm");
        ModelFile.Save(path, original);

        AssertIdentical(original, ModelFile.Load(path, Small()));
    }

    [Fact]
    public void Load_SameArchitectureUnderAnotherClassName_Loads()
    {
        var path = SaveSmall();

        var content = ModelFile.Load(path, Small(name: "Other.Namespace.Renamed"));

        Assert.Equal("Tests.SmallNet", content.ModelType);
    }

    [Fact]
    public void Load_OtherArchitecture_ReportsMismatchNamingBoth()
    {
        var path = SaveSmall();

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, Other()));

        Assert.Equal(ModelFileError.ArchitectureMismatch, error.Reason);
        Assert.Contains(path, error.Message);
        Assert.Contains("Tests.SmallNet", error.Message);
        Assert.Contains("Tests.OtherNet", error.Message);
        Assert.Contains(SmallArchitecture, error.Message);
        Assert.Contains(OtherArchitecture, error.Message);
    }

    [Fact]
    public void Load_ParameterCountDiffers_ReportsParameterCountMismatch()
    {
        var path = SaveSmall();

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, Small(parameterCountOverride: 25)));

        Assert.Equal(ModelFileError.ParameterCountMismatch, error.Reason);
        Assert.Contains("holds 23 parameters", error.Message);
        Assert.Contains("has 25", error.Message);
    }

    [Fact]
    public void Load_CorruptFile_ReportsCorruptBeforeComparing()
    {
        var path = SaveSmall();
        var bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        Assert.Equal(ModelFileError.Corrupt, Assert.Throws<ModelFileException>(() => ModelFile.Load(path, Other())).Reason);
    }

    [Fact]
    public void Save_PathUnderRegularFile_ReportsUnwritable()
    {
        var blocker = _folder.File("not-a-folder");
        File.WriteAllText(blocker, "x");
        var path = Path.Combine(blocker, "model.mgm");

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Save(path, Content(Small())));

        Assert.Equal(ModelFileError.Unwritable, error.Reason);
        Assert.Contains(path, error.Message);
        Assert.NotNull(error.InnerException);
        Assert.Equal("x", File.ReadAllText(blocker));
    }

    [Fact]
    public void Save_PathIsFolder_ReportsUnwritable()
    {
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Save(_folder.Path, Content(Small())));

        Assert.Equal(ModelFileError.Unwritable, error.Reason);
        Assert.Contains("is a folder", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(300)]
    [InlineData(-33)] // everything but the checksum
    [InlineData(-1)]
    public void Save_FailingMidway_LeavesPreviousFileIntactAndNoTempFile(int failAfter)
    {
        var path = _folder.File("model.mgm");
        var previous = Content(Small(), seed: 1);
        ModelFile.Save(path, previous);
        var previousBytes = File.ReadAllBytes(path);
        var next = Content(Small(), seed: 2);
        long limit = failAfter >= 0 ? failAfter : previousBytes.Length + failAfter;

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Save(path, next, s => new FailingStream(s, limit)));

        Assert.Equal(ModelFileError.Unwritable, error.Reason);
        Assert.IsType<IOException>(error.InnerException);
        Assert.Equal(previousBytes, File.ReadAllBytes(path));
        AssertIdentical(previous, ModelFile.Load(path, Small()));
        Assert.Equal(["model.mgm"], Directory.GetFileSystemEntries(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_FailingMidwayWithNoPreviousFile_LeavesNothing()
    {
        var path = _folder.File("model.mgm");

        Assert.Throws<ModelFileException>(() => ModelFile.Save(path, Content(Small()), s => new FailingStream(s, 50)));

        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void Save_FailingInjection_CoversTheWholeFile()
    {
        // Guards the test above: with the limit at the full length nothing fails, so the negative offsets
        // really cut the write short.
        var path = _folder.File("model.mgm");
        ModelFile.Save(path, Content(Small()));
        var length = new FileInfo(path).Length;

        ModelFile.Save(path, Content(Small(), seed: 5), s => new FailingStream(s, length));

        AssertIdentical(Content(Small(), seed: 5), ModelFile.Read(path));
    }
}

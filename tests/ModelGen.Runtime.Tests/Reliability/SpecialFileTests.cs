using ModelGen.Runtime.Tests.Data;
using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>
/// Every reader refuses what is not a regular file (a FIFO, a pipe, a device) up front, with a message that says so,
/// instead of blocking on it, crashing on it or reading it forever.
/// </summary>
public sealed class SpecialFileTests : IDisposable
{
    private readonly Data.TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ModelFileRead_Fifo_IsRefusedAsNotAModelFile()
    {
        var fifo = SpecialFiles.MakeFifo(_folder.File("model.mgm"));

        var error = Assert.IsType<ModelFileException>(SpecialFiles.Throws(() => ModelFile.Read(fifo), fifo));

        Assert.Equal(ModelFileError.NotAModelFile, error.Reason);
        Assert.Contains(fifo, error.Message);
        Assert.Contains("FIFO", error.Message);
        Assert.Contains("not a regular file", error.Message);
    }

    [Fact]
    public void ModelFileRead_Pipe_IsRefusedAsNotAModelFile()
    {
        var model = _folder.File("model.mgm");
        ModelFile.Save(model, Content(Small(), withOptimizer: false));
        var (path, pipe) = SpecialFiles.Pipe(File.ReadAllBytes(model));
        using (pipe)
        {
            var error = Assert.IsType<ModelFileException>(SpecialFiles.Throws(() => ModelFile.Read(path)));

            Assert.Equal(ModelFileError.NotAModelFile, error.Reason);
            Assert.Contains("pipe", error.Message);
        }
    }

    [Fact]
    public void ModelFileRead_CharacterDevice_IsRefusedAsNotAModelFile()
    {
        var error = Assert.IsType<ModelFileException>(SpecialFiles.Throws(() => ModelFile.Read("/dev/zero")));

        Assert.Equal(ModelFileError.NotAModelFile, error.Reason);
        Assert.Contains("device", error.Message);
    }

    [Fact]
    public void ModelFileRead_SymlinkToARegularModelFile_Loads()
    {
        var model = _folder.File("model.mgm");
        var content = Content(Small(), withOptimizer: false);
        ModelFile.Save(model, content);
        var link = _folder.File("link.mgm");
        File.CreateSymbolicLink(link, model);

        AssertIdentical(content, ModelFile.Read(link));
    }

    [Fact]
    public void IdxRead_FifoAndDevice_AreRefused()
    {
        var fifo = SpecialFiles.MakeFifo(_folder.File("train-labels-idx1-ubyte"));

        var fromFifo = Assert.IsAssignableFrom<ModelGenException>(SpecialFiles.Throws(() => Idx.Read(fifo), fifo));
        var fromDevice = Assert.IsAssignableFrom<ModelGenException>(SpecialFiles.Throws(() => Idx.Read("/dev/zero")));

        Assert.Contains("FIFO", fromFifo.Message);
        Assert.Contains(fifo, fromFifo.Message);
        Assert.Contains("not a regular file", fromDevice.Message);
    }

    [Fact]
    public void MnistLoad_FifoInTheSourceFolder_IsReportedAndNothingBlocks()
    {
        var source = _folder.File("source");
        Directory.CreateDirectory(source);
        TinyMnist.WriteAll(source, gzip: false);
        var fifo = Path.Combine(source, "train-images-idx3-ubyte");
        File.Delete(fifo);
        SpecialFiles.MakeFifo(fifo);

        var error = Assert.IsType<DataUnavailableException>(SpecialFiles.Throws(() => Mnist.Load(Options(_folder.File("cache"), source)), fifo));

        Assert.Contains(error.Attempts, a => a.Contains("train-images-idx3-ubyte") && a.Contains("FIFO"));
    }

    [Fact]
    public void MnistLoad_CacheFileThatIsAFifo_IsFetchedAgainAndReplacedByARegularFile()
    {
        var source = _folder.File("source");
        Directory.CreateDirectory(source);
        TinyMnist.WriteAll(source, gzip: true);
        var cache = _folder.File("cache");
        Directory.CreateDirectory(cache);
        var fifo = SpecialFiles.MakeFifo(Path.Combine(cache, "train-labels-idx1-ubyte"));

        var data = SpecialFiles.Finishes(() => Mnist.Load(Options(cache, source)), fifo);

        Assert.Equal(TinyMnist.TrainLabels, data.Train.Labels);
        Assert.Equal(TinyMnist.Files["train-labels-idx1-ubyte"], File.ReadAllBytes(fifo));
    }

    [Fact]
    public void MnistLoad_CacheFileSymlinkedToDevZero_IsFetchedAgainWithoutReadingTheDevice()
    {
        var source = _folder.File("source");
        Directory.CreateDirectory(source);
        TinyMnist.WriteAll(source, gzip: false);
        var cache = _folder.File("cache");
        Directory.CreateDirectory(cache);
        var link = Path.Combine(cache, "t10k-images-idx3-ubyte");
        File.CreateSymbolicLink(link, "/dev/zero");

        var data = SpecialFiles.Finishes(() => Mnist.Load(Options(cache, source)));

        Assert.Equal(TinyMnist.TestPixels, data.Test.Pixels);
        Assert.Null(new FileInfo(link).LinkTarget); // the link was replaced by the verified file
        Assert.Equal(TinyMnist.Files["t10k-images-idx3-ubyte"], File.ReadAllBytes(link));
    }

    [Fact]
    public void TrainingHistoryLoad_Fifo_IsRefused()
    {
        var fifo = SpecialFiles.MakeFifo(_folder.File("history.json"));

        var error = Assert.IsAssignableFrom<ModelGenException>(SpecialFiles.Throws(() => TrainingHistory.Load(fifo), fifo));

        Assert.Contains("FIFO", error.Message);
    }

    private static MnistOptions Options(string cache, string source) => new()
    {
        CacheDirectory = cache,
        SourceDirectory = source,
        Mirrors = [],
        UseNpm = false,
        ExpectedSha256 = TinyMnist.Hashes,
    };
}

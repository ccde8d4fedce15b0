using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>No temporary file outlives a failed save, and the temp files a killed save left behind go with the next save.</summary>
public sealed class TempFileTests : IDisposable
{
    private readonly Data.TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string[] Entries() => [.. Directory.GetFileSystemEntries(_folder.Path).Select(Path.GetFileName).Order()!];

    [Fact]
    public void Save_RemovesTempFilesThatAKilledSaveOfTheSameTargetLeft()
    {
        var path = _folder.File("model.mgm");
        // What `kill -9` during Save leaves: a half-written temp file that nobody holds open any more.
        var stale = _folder.File($".model.mgm.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(stale, new byte[100]);
        var otherTarget = _folder.File($".other.mgm.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(otherTarget, new byte[3]);
        var notOurs = _folder.File(".model.mgm.notes.tmp");
        File.WriteAllText(notOurs, "a user's file");

        ModelFile.Save(path, Content(Small(), withOptimizer: false));

        Assert.Equal(new[] { Path.GetFileName(notOurs), Path.GetFileName(otherTarget), "model.mgm" }.Order(), Entries());
    }

    [Fact]
    public void Save_LeavesATempFileThatAnotherSaveStillWrites()
    {
        var path = _folder.File("model.mgm");
        var busy = _folder.File($".model.mgm.{Guid.NewGuid():N}.tmp");
        // Another process's save in progress holds its temp file exclusively.
        using var writer = new FileStream(busy, FileMode.CreateNew, FileAccess.Write, FileShare.None);

        ModelFile.Save(path, Content(Small(), withOptimizer: false));

        Assert.True(File.Exists(busy));
    }

    [Fact]
    public void HistorySave_FailingRename_LeavesNoTempFile()
    {
        var history = new TrainingHistory();
        history.AddEpoch(0.5, 0.8, null, null, 1.0);
        var path = _folder.File("history.json");
        Directory.CreateDirectory(path); // a folder where the file should go: the rename fails

        Assert.ThrowsAny<ModelGenException>(() => history.Save(path));

        Assert.Equal(["history.json"], Entries());
    }
}

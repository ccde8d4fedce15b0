namespace ModelGen.Runtime.Tests.Training;

/// <summary>The thread count training, evaluation and batch prediction run with, including where threads cannot start.</summary>
public sealed class ThreadCountTests
{
    [Theory]
    [InlineData(null, 8, 8)]
    [InlineData(3, 8, 3)]
    [InlineData(null, 1000, Trainer.MaxThreads)]
    [InlineData(null, 0, 1)]
    public void ThreadCount_WhereThreadsStart_IsTheRequestOrEveryCore(int? requested, int cores, int expected) =>
        Assert.Equal(expected, Trainer.ThreadCount(requested, "threads", cores, canStartThreads: true));

    [Theory]
    [InlineData(null, 1)]
    [InlineData(null, 16)]
    [InlineData(4, 16)]
    [InlineData(Trainer.MaxThreads, 16)]
    public void ThreadCount_WhereThreadsCannotStart_IsOne(int? requested, int cores) =>
        Assert.Equal(1, Trainer.ThreadCount(requested, "threads", cores, canStartThreads: false));

    [Theory]
    [InlineData(0)]
    [InlineData(Trainer.MaxThreads + 1)]
    public void ThreadCount_OutOfRange_IsRefusedOnEveryPlatform(int requested)
    {
        foreach (var canStart in new[] { true, false })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.ThreadCount(requested, "threads", 4, canStart));
            Assert.Contains($"must be 1 to {Trainer.MaxThreads}", error.Message);
        }
    }

    [Fact]
    public void CanStartThreads_OnThisMachine_IsTrue() =>
        // The tests run on a desktop .NET: threads start. (In a browser the end-to-end DigitPad test covers the other side.)
        Assert.True(ModelGen.Cpu.WorkerPool.CanStartThreads);
}

using LeNet5Sample;

namespace ModelGen.Sample.Tests;

/// <summary><c>train --resume</c> continues the same run: 1 epoch + 1 resumed epoch is exactly 2 epochs.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("modelgen-sample-resume-").FullName;

    [Fact]
    public void Resume_OneEpochThenOneMore_IsBitIdenticalToTwoEpochs()
    {
        var straight = Path.Combine(_root, "straight");
        var resumed = Path.Combine(_root, "resumed");

        var two = Cli.Run("train", "--limit", "1000", "--epochs", "2", "--device", "cpu", "--out", straight);
        Assert.True(two.ExitCode == 0, two.ToString());
        var first = Cli.Run("train", "--limit", "1000", "--epochs", "1", "--device", "cpu", "--out", resumed);
        Assert.True(first.ExitCode == 0, first.ToString());
        // No --limit or --seed: a resumed run takes the data, seed and batch size it was started with.
        var second = Cli.Run("train", "--resume", "--epochs", "1", "--device", "cpu", "--out", resumed);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("resuming", second.Out);
        Assert.Contains("Epoch 2/2", second.Out);
        Assert.Contains("1,000 training images", second.Out);

        var a = LeNet5.Load(Path.Combine(straight, "model.mgm"));
        var b = LeNet5.Load(Path.Combine(resumed, "model.mgm"));
        Assert.Equal(a.Parameters.Length, b.Parameters.Length);
        for (var i = 0; i < a.Parameters.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a.Parameters[i]) != BitConverter.SingleToInt32Bits(b.Parameters[i]))
            {
                Assert.Fail($"parameter {i} differs: {a.Parameters[i]:R} after 2 epochs, {b.Parameters[i]:R} after 1 + 1");
            }
        }

        Assert.Equal(2, b.History!.Epochs);
        Assert.Equal(a.History!.Loss, b.History.Loss);
        Assert.Equal(a.History.ValAccuracy, b.History.ValAccuracy);
        Assert.Equal(a.History.Evaluation, b.History.Evaluation);
        Assert.Equal(2, TrainingHistory.Load(Path.Combine(resumed, "history.json")).Epochs);
    }

    [Fact]
    public void Resume_WithoutSavedModel_FailsWithOneLine()
    {
        var result = Cli.Run("train", "--resume", "--epochs", "1", "--out", Path.Combine(_root, "empty"));
        Cli.AssertOneLineError(result, "does not exist");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder does not make a test wrong.
        }
    }
}

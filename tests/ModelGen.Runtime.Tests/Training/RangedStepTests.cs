namespace ModelGen.Runtime.Tests.Training;

/// <summary>The training loop applies Adam in ranges on several threads; that must equal one whole Step, bit for bit.</summary>
public class RangedStepTests
{
    [Fact]
    public void Adam_StepInRanges_IsBitIdenticalToStep()
    {
        var random = new Random(11);
        var start = Enumerable.Range(0, 1003).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var gradients = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 1003).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();

        var whole = (float[])start.Clone();
        var wholeAdam = new Adam();
        var ranged = (float[])start.Clone();
        var rangedAdam = new Adam();
        int[] cuts = [0, 5, 400, 401, 999, 1003];
        foreach (var gradient in gradients)
        {
            wholeAdam.Step(whole, gradient);

            Assert.True(rangedAdam.SupportsRanges);
            rangedAdam.BeginStep(ranged.Length);
            for (var r = cuts.Length - 2; r >= 0; r--) // any order: ranges are independent
            {
                var from = cuts[r];
                var length = cuts[r + 1] - from;
                rangedAdam.StepRange(ranged.AsSpan(from, length), gradient.AsSpan(from, length), from);
            }

            rangedAdam.EndStep();
        }

        Assert.Equal(whole.Select(BitConverter.SingleToInt32Bits), ranged.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(wholeAdam.Iterations, rangedAdam.Iterations);
        var a = wholeAdam.GetState();
        var b = rangedAdam.GetState();
        for (var s = 0; s < a.Slots.Length; s++) Assert.Equal(a.Slots[s], b.Slots[s]);
    }

    [Fact]
    public void Sgd_DoesNotClaimRanges_SoTheLoopCallsStep()
    {
        Assert.False(new Sgd(momentum: 0.9).SupportsRanges);
    }
}

using ModelGen.Cpu;

namespace ModelGen.Runtime.Tests.Cpu;

public class ActivationTests
{
    /// <summary>The rational tanh against the double-precision tanh over a fine grid, vector lanes and scalar tail alike.</summary>
    [Fact]
    public void Tanh_IsWithin4e7OfTheExactValue()
    {
        var inputs = Enumerable.Range(0, 240_003).Select(i => (float)(-12.0 + i * 1e-4)).ToArray();
        var values = (float[])inputs.Clone();

        CpuKernels.Tanh(values);

        var worst = inputs.Select((x, i) => Math.Abs(values[i] - Math.Tanh(x))).Max();
        Assert.True(worst < 4e-7, $"largest error {worst:E2}");
        Assert.Equal(0f, values[120_000]);           // tanh(0) is exactly 0
        Assert.True(values[0] >= -1f && values[^1] <= 1f);
    }
}

using ModelGen.Cpu;

namespace ModelGen.Runtime.Tests.Cpu;

/// <summary>Max pooling's first-maximum rule on ties, for the 8-wide, 4-wide and scalar channel paths (13 = 8 + 4 + 1).</summary>
public class PoolKernelsTests
{
    private readonly struct TwoByTwo13 : IPoolShape
    {
        public static int InWidth => 4;
        public static int Channels => 13;
        public static int OutHeight => 2;
        public static int OutWidth => 2;
        public static int PoolSize => 2;
        public static int Stride => 2;
    }

    private readonly struct ThreeByThreeStrideOne13 : IPoolShape
    {
        public static int InWidth => 4;
        public static int Channels => 13;
        public static int OutHeight => 2;
        public static int OutWidth => 2;
        public static int PoolSize => 3;
        public static int Stride => 1;
    }

    private const int C = 13;

    private static int Index(int y, int x, int c) => (y * 4 + x) * C + c;

    [Fact]
    public void MaxBackward_OnTies_SendsTheGradientToTheFirstMaximumOnly()
    {
        // A 4x4x13 input where every 2x2 window holds the value 1 twice: at its second and fourth cell.
        var x = new float[4 * 4 * C];
        for (var y = 0; y < 4; y++)
        {
            for (var xx = 0; xx < 4; xx++)
            {
                for (var c = 0; c < C; c++)
                {
                    var cell = (y % 2) * 2 + xx % 2;
                    x[Index(y, xx, c)] = cell is 1 or 3 ? 1f : -(cell + c) / 10f;
                }
            }
        }

        var dy = Enumerable.Range(0, 2 * 2 * C).Select(i => i + 1f).ToArray();
        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        var y0 = new float[2 * 2 * C];

        PoolKernels.MaxForward<TwoByTwo13>(x, y0);
        PoolKernels.MaxBackward<TwoByTwo13>(x, dy, dx);

        Assert.All(y0, v => Assert.Equal(1f, v));
        for (var oy = 0; oy < 2; oy++)
        {
            for (var ox = 0; ox < 2; ox++)
            {
                for (var c = 0; c < C; c++)
                {
                    var g = dy[(oy * 2 + ox) * C + c];
                    Assert.Equal(0f, dx[Index(2 * oy, 2 * ox, c)]);
                    Assert.Equal(g, dx[Index(2 * oy, 2 * ox + 1, c)]);    // the first maximum
                    Assert.Equal(0f, dx[Index(2 * oy + 1, 2 * ox, c)]);
                    Assert.Equal(0f, dx[Index(2 * oy + 1, 2 * ox + 1, c)]); // the tied second one gets nothing
                }
            }
        }
    }

    [Fact]
    public void MaxBackward_OverlappingWindows_AddUpAtSharedMaxima()
    {
        // 3x3 windows with stride 1 overlap; a single peak in the centre is every window's maximum.
        var x = Enumerable.Repeat(-1f, 4 * 4 * C).ToArray();
        for (var c = 0; c < C; c++) x[Index(1, 1, c)] = 5f;
        var dy = Enumerable.Repeat(0.5f, 2 * 2 * C).ToArray();
        var dx = new float[x.Length];

        PoolKernels.MaxBackward<ThreeByThreeStrideOne13>(x, dy, dx);

        for (var c = 0; c < C; c++) Assert.Equal(2f, dx[Index(1, 1, c)]);
        Assert.Equal(2f * C, dx.Sum());
    }
}

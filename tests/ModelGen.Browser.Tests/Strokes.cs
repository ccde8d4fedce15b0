namespace ModelGen.Browser.Tests;

/// <summary>Pen strokes for the 280x280 pad: drawn digits whose answer is known.</summary>
internal static class Strokes
{
    public const int Pad = 280;

    /// <summary>A one: a single, slightly slanted down-stroke.</summary>
    public static IReadOnlyList<(double X, double Y)>[] One => [[(152, 40), (128, 240)]];

    /// <summary>A seven: the top bar, then the diagonal down to the left, in one stroke.</summary>
    public static IReadOnlyList<(double X, double Y)>[] Seven => [[(70, 55), (210, 50), (125, 240)]];

    /// <summary>
    /// An MNIST image replayed as pen strokes: each of its 28 rows becomes horizontal strokes over the runs of ink pixels
    /// (value at least half), scaled 10x to the pad. The pad's round brush then fills the rows into one shape.
    /// </summary>
    public static IReadOnlyList<(double X, double Y)>[] FromImage(ReadOnlySpan<byte> image)
    {
        const int Size = 28;
        const double Scale = (double)Pad / Size;
        var strokes = new List<IReadOnlyList<(double X, double Y)>>();
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                if (image[y * Size + x] < 128) continue;
                var end = x;
                while (end + 1 < Size && image[y * Size + end + 1] >= 128) end++;
                var cy = (y + 0.5) * Scale;
                strokes.Add([((x + 0.5) * Scale, cy), ((end + 0.5) * Scale, cy)]);
                x = end;
            }
        }

        return [.. strokes];
    }
}

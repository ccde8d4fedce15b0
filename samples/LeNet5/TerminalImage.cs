using System.Text;

namespace LeNet5Sample;

/// <summary>
/// Draws an 8-bit grayscale image in a terminal, two pixel rows per text line: with colour, each cell is an upper
/// half block whose foreground is the upper pixel and whose background is the lower one (256-colour ANSI grays);
/// without colour, each cell is a character of a brightness ramp for the mean of the two pixels.
/// </summary>
internal static class TerminalImage
{
    /// <summary>From dark to bright: a space is an empty (black) pixel, '@' full ink.</summary>
    public const string Ramp = " .:-=+*#%@";

    private const char UpperHalfBlock = '\u2580';

    // The 256-colour palette's grays: 16 (black), 232..255 (8, 18, ..., 238) and 231 (white).
    private static readonly (int Level, int Code)[] s_grays = BuildGrays();

    public static string Render(ReadOnlySpan<byte> pixels, int rows, int columns, bool color)
    {
        if (pixels.Length != rows * columns) throw new ArgumentException($"{pixels.Length} pixels do not make a {rows}x{columns} image.", nameof(pixels));
        var sb = new StringBuilder();
        var horizontal = new string(color ? '\u2500' : '-', columns);
        sb.Append(color ? '\u250c' : '+').Append(horizontal).Append(color ? '\u2510' : '+').Append('\n');
        for (var y = 0; y < rows; y += 2)
        {
            sb.Append(color ? '\u2502' : '|');
            int lastTop = -1, lastBottom = -1;
            for (var x = 0; x < columns; x++)
            {
                int top = pixels[y * columns + x];
                int bottom = y + 1 < rows ? pixels[(y + 1) * columns + x] : 0;
                if (color)
                {
                    // Codes only where the colours change: a black background costs one code per line.
                    int topCode = GrayCode(top), bottomCode = GrayCode(bottom);
                    if (topCode != lastTop || bottomCode != lastBottom)
                    {
                        sb.Append("\u001b[38;5;").Append(topCode).Append(";48;5;").Append(bottomCode).Append('m');
                        lastTop = topCode;
                        lastBottom = bottomCode;
                    }

                    sb.Append(UpperHalfBlock);
                }
                else
                {
                    sb.Append(RampChar((top + bottom) / 2));
                }
            }

            if (color) sb.Append("\u001b[0m");
            sb.Append(color ? '\u2502' : '|').Append('\n');
        }

        sb.Append(color ? '\u2514' : '+').Append(horizontal).Append(color ? '\u2518' : '+').Append('\n');
        return sb.ToString();
    }

    /// <summary>The ramp character for a brightness 0..255.</summary>
    public static char RampChar(int level) => Ramp[Math.Clamp(level, 0, 255) * Ramp.Length / 256];

    /// <summary>The 256-colour code of the gray nearest to <paramref name="level"/>.</summary>
    public static int GrayCode(int level)
    {
        var best = s_grays[0];
        foreach (var g in s_grays)
        {
            if (Math.Abs(g.Level - level) < Math.Abs(best.Level - level)) best = g;
        }

        return best.Code;
    }

    private static (int, int)[] BuildGrays()
    {
        var grays = new List<(int, int)> { (0, 16) };
        for (var i = 0; i < 24; i++) grays.Add((8 + 10 * i, 232 + i));
        grays.Add((255, 231));
        return grays.ToArray();
    }
}

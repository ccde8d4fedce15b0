using System;
using System.Globalization;
using System.Text;

namespace ModelGen.Generator.Emit;

/// <summary>
/// Writes C# source with tracked indentation. Interpolated lines are formatted with the invariant culture, so the
/// generated code never depends on the locale of the machine that builds it.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    /// <summary>Writes one line; interpolated values are formatted invariantly.</summary>
    public SourceWriter Line(FormattableString line) => Raw(line.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes one line of literal text (or an empty line).</summary>
    public SourceWriter Raw(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/> then an opening brace, and indents what follows.</summary>
    public SourceWriter Open(FormattableString header)
    {
        Line(header);
        return OpenBrace();
    }

    /// <summary>Writes <paramref name="header"/> (literal) then an opening brace, and indents what follows.</summary>
    public SourceWriter OpenRaw(string header)
    {
        Raw(header);
        return OpenBrace();
    }

    public SourceWriter OpenBrace()
    {
        Raw("{");
        _indent++;
        return this;
    }

    /// <summary>Closes the innermost brace; <paramref name="suffix"/> follows it (e.g. ";" or ")").</summary>
    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Raw("}" + suffix);
    }

    public SourceWriter Indent()
    {
        _indent++;
        return this;
    }

    public SourceWriter Outdent()
    {
        _indent--;
        return this;
    }

    public override string ToString() => _text.ToString();

    /// <summary>A float as a C# literal that round-trips (e.g. 0.25f).</summary>
    public static string Float(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

    /// <summary>A C# string literal (regular, escaped).</summary>
    public static string String(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                default: text.Append(c); break;
            }
        }

        return text.Append('"').ToString();
    }

    /// <summary>An int array as a C# expression: new[] { 5, 5, 1, 6 }.</summary>
    public static string IntArray(int[] values) =>
        "new int[] { " + string.Join(", ", Array.ConvertAll(values, v => v.ToString(CultureInfo.InvariantCulture))) + " }";

    /// <summary>Escapes text for an XML doc comment.</summary>
    public static string Xml(string value) => value.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}

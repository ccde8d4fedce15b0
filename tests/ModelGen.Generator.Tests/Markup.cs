namespace ModelGen.Generator.Tests;

/// <summary>
/// Source with one expected diagnostic span marked as [|…|]. The markers are removed and the span's zero-based
/// start line/column remembered, so a test states exactly where a diagnostic must sit.
/// </summary>
internal sealed record Markup(string Source, int Line, int Column, int Length)
{
    public static Markup Parse(string marked)
    {
        var start = marked.IndexOf("[|", StringComparison.Ordinal);
        var end = marked.IndexOf("|]", StringComparison.Ordinal);
        if (start < 0 || end < start) throw new ArgumentException("The source has no [|…|] span.");
        var source = marked.Remove(end, 2).Remove(start, 2);
        var before = source[..start];
        var line = before.Count(c => c == '\n');
        var column = start - (before.LastIndexOf('\n') + 1);
        return new Markup(source, line, column, end - start - 2);
    }
}

namespace ModelGen.Generator.Emit;

/// <summary>Searches in generated code text.</summary>
internal static class CodeText
{
    /// <summary>
    /// Whether <paramref name="name"/> occurs in <paramref name="code"/> as a whole identifier, not inside a longer one
    /// (what <c>\bname\b</c> matches). A plain scan: a Regex would cost the generator tens of milliseconds of start-up
    /// in every command-line build.
    /// </summary>
    public static bool ContainsWord(string code, string name)
    {
        if (name.Length == 0) return false;
        for (var at = code.IndexOf(name, System.StringComparison.Ordinal); at >= 0; at = code.IndexOf(name, at + 1, System.StringComparison.Ordinal))
        {
            var end = at + name.Length;
            if ((at == 0 || !IsIdentifierPart(code[at - 1])) && (end == code.Length || !IsIdentifierPart(code[end]))) return true;
        }

        return false;
    }

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';
}

using LeNet5Sample;

namespace ModelGen.Sample.Tests;

/// <summary>What one in-process run of the sample printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    /// <summary>The non-empty lines written to stderr.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}

/// <summary>Runs the sample's command line in this process, capturing its output.</summary>
public static class Cli
{
    public static CliResult Run(params string[] args) => Run(CancellationToken.None, args);

    public static CliResult Run(CancellationToken cancellationToken, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr, cancellationToken);
        return new CliResult(code, stdout.ToString().Replace("\r\n", "\n"), stderr.ToString().Replace("\r\n", "\n"));
    }

    /// <summary>Asserts the run failed with exactly one "error: ..." line on stderr and no stack trace anywhere.</summary>
    public static void AssertOneLineError(CliResult result, string expectedFragment)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        var lines = result.ErrorLines;
        Assert.True(lines.Length == 1, $"expected one line on stderr:\n{result}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("   at ", result.Out);
        Assert.DoesNotContain("Exception", lines[0]);
    }
}

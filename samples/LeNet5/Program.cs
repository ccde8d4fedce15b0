using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using ModelGen;

namespace LeNet5Sample;

/// <summary>
/// The Keras LeNet-5 tutorial's two programs as one command-line tool: <c>train</c> (program 1), <c>predict</c>
/// (program 2), <c>evaluate</c> and <c>export</c> (to ONNX).
/// </summary>
public static class Program
{
    /// <summary>Exit code of a run that worked.</summary>
    public const int ExitOk = 0;

    /// <summary>Exit code of an error in the data, a file or the environment.</summary>
    public const int ExitError = 1;

    /// <summary>Exit code of a usage error: a bad option value, or a device that is not available.</summary>
    public const int ExitUsage = 2;

    /// <summary>Exit code after Ctrl+C stopped training (128 + SIGINT, as shells report it).</summary>
    public const int ExitInterrupted = 130;

    // Set while Fit runs: only then does Ctrl+C stop cleanly between steps; otherwise it ends the process as usual.
    private static volatile bool s_trainingInProgress;

    /// <summary>The process entry point.</summary>
    public static int Main(string[] args)
    {
        if (OperatingSystem.IsWindows()) Console.OutputEncoding = Encoding.UTF8;
        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C during training stops it between two steps; a second one ends the process at once.
            if (s_trainingInProgress && !interrupt.IsCancellationRequested)
            {
                e.Cancel = true;
                interrupt.Cancel();
            }
        };
        return Run(args, Console.Out, Console.Error, interrupt.Token);
    }

    /// <summary>Runs the tool in-process with its output going to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    /// <returns>The exit code: <see cref="ExitOk"/>, <see cref="ExitError"/>, <see cref="ExitUsage"/> or <see cref="ExitInterrupted"/>.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    /// <summary>
    /// Runs the tool in-process; <paramref name="cancellationToken"/> stops training between steps as Ctrl+C does.
    /// </summary>
    /// <returns>The exit code: <see cref="ExitOk"/>, <see cref="ExitError"/>, <see cref="ExitUsage"/> or <see cref="ExitInterrupted"/>.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var console = new SampleConsole(stdout, stderr, cancellationToken);
        var root = Commands.Build(console);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var messages = parse.Errors.Select(DescribeParseError).Distinct();
            stderr.WriteLine($"error: {OneLine(string.Join("; ", messages))}. Run with --help for usage.");
            return ExitUsage;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                // Errors are reported below as one line; Ctrl+C is handled by Main.
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        // Every error a user can cause ends here: one line on stderr, no stack trace.
        catch (SampleException e)
        {
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            return e.ExitCode;
        }
        catch (ModelGenException e)
        {
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            return ExitError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            return ExitError;
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    /// <summary>Marks the span in which Ctrl+C stops training cleanly instead of ending the process.</summary>
    internal static IDisposable TrainingScope()
    {
        s_trainingInProgress = true;
        return new ScopeEnd();
    }

    /// <summary>A parse error's message, without its final period, naming the option it is about.</summary>
    private static string DescribeParseError(ParseError error)
    {
        var message = error.Message.TrimEnd().TrimEnd('.');
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        if (option is not null && !message.Contains(option.Name, StringComparison.Ordinal)) message = $"{option.Name}: {message}";
        if (message == "Required command was not provided") message = "choose a command: train, predict, evaluate or export";
        return message;
    }

    /// <summary>Joins a multi-line message into one line.</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private sealed class ScopeEnd : IDisposable
    {
        public void Dispose() => s_trainingInProgress = false;
    }
}

/// <summary>Where a command writes, whether it may draw live output, and the token that stops training.</summary>
internal sealed class SampleConsole(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>True when <see cref="Out"/> is the process's console and that console is a terminal.</summary>
    public bool OutIsTerminal => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;
}

/// <summary>An error the sample reports itself (bad option combination, unreadable image, missing device), with its exit code.</summary>
public sealed class SampleException : ModelGenException
{
    /// <summary>Creates the exception; <paramref name="exitCode"/> is what the process returns.</summary>
    public SampleException(string message, int exitCode = Program.ExitError) : base(message) => ExitCode = exitCode;

    /// <summary>Creates the exception with its cause.</summary>
    public SampleException(string message, Exception inner, int exitCode = Program.ExitError) : base(message, inner) => ExitCode = exitCode;

    /// <summary>The process exit code for this error.</summary>
    public int ExitCode { get; }
}

using System.Diagnostics;

namespace ModelGen.Package.Tests;

/// <summary>
/// Runs the dotnet CLI as a user would, in a clean environment (none of the test host's MSBuild variables). Builds pass
/// -nodeReuse:false and UseSharedCompilation=false so that no build server outlives the test.
/// </summary>
internal static class Dotnet
{
    public static (int ExitCode, string Output) Run(string directory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        RunProgram("dotnet", directory, environment, arguments);

    public static (int ExitCode, string Output) RunProgram(string program, string directory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        // `dotnet test` runs us under MSBuild, whose variables would point the child build at the wrong SDK pieces.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in 5 minutes in {directory}");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

using System.Diagnostics;

namespace ModelGen.Generator.Tests;

/// <summary>
/// `dotnet build` of a user project, as a user runs it: each MG error printed once at file(line,col), #pragma and
/// .editorconfig applied to MG warnings, and generated files written to disk even for very long model names.
/// </summary>
public class BuildTests
{
    [Fact]
    public void DotnetBuild_PrintsEachMGErrorOnceAtItsPlace_AndAppliesPragmaAndEditorConfig()
    {
        var folder = Directory.CreateTempSubdirectory("modelgen-build-");
        try
        {
            var root = RepositoryRoot.Path;
            File.WriteAllText(Path.Combine(folder.FullName, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
                  </PropertyGroup>
                  <ItemGroup>
                    <ProjectReference Include="{root}/runtime/ModelGen/ModelGen.csproj" />
                    <ProjectReference Include="{root}/generator/ModelGen.Generator/ModelGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(folder.FullName, "Broken.cs"), """
                using ModelGen;

                [Sequential(28, 28, 1)]
                [Conv2D(6, 5, Activation = Activation.Tanh)]
                [MaxPool2D(2)]
                [Dense(10, Activation = Activation.Softmax)]
                public partial class Broken;
                """);
            File.WriteAllText(Path.Combine(folder.FullName, "Pragma.cs"), """
                using ModelGen;
                [Sequential(4)]
                #pragma warning disable MG0111
                [Flatten]
                #pragma warning restore MG0111
                [Dense(2)]
                public partial class Pragma;
                """);
            File.WriteAllText(Path.Combine(folder.FullName, "Raised.cs"), """
                using ModelGen;
                [Sequential(4)]
                [Flatten]
                [Dense(2)]
                public partial class Raised;
                """);
            File.WriteAllText(Path.Combine(folder.FullName, ".editorconfig"), """
                root = true

                [Raised.cs]
                dotnet_diagnostic.MG0111.severity = error
                """);
            var ns = string.Join(".", Enumerable.Range(0, 10).Select(i => $"Organisation{i}Department{i}"));
            var longClass = "Model" + new string('X', 100);
            File.WriteAllText(Path.Combine(folder.FullName, "Long.cs"), $"using ModelGen;\nnamespace {ns};\n[Sequential(4)]\n[Dense(2)]\npublic partial class {longClass};\n");
            Assert.True(ns.Length + longClass.Length > 244);

            // A separate artifacts folder keeps this build from touching the repository's bin/obj folders.
            var artifacts = Path.Combine(folder.FullName, "artifacts");
            var (exitCode, output) = Dotnet(folder.FullName, "build", "--artifacts-path", artifacts, "-nologo", "-tl:off");
            Assert.NotEqual(0, exitCode);

            // The log as the build runs, before MSBuild's closing summary repeats every error.
            var live = output[..output.IndexOf("Build FAILED.", StringComparison.Ordinal)];
            var mgLines = live.Split('\n').Where(l => l.Contains(": error MG", StringComparison.Ordinal) || l.Contains(": warning MG", StringComparison.Ordinal)).ToList();
            Assert.True(mgLines.Count == 2, "expected two MG lines:\n" + string.Join("\n", mgLines));
            Assert.Single(mgLines, l => l.Contains("Broken.cs(6,2): error MG0106: Dense(10) (Dense #3) needs a 1-D input but receives 12x12x6 from MaxPool2D #2; insert [Flatten] before it", StringComparison.Ordinal));
            Assert.Single(mgLines, l => l.Contains("Raised.cs(3,2): error MG0111:", StringComparison.Ordinal));
            Assert.DoesNotContain("CS0016", output);

            // The long-named model's files are on disk under a short name.
            var generated = Directory.EnumerateFiles(artifacts, "*.g.cs", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
            Assert.Contains(generated, f => f!.StartsWith("ModelXXXX", StringComparison.Ordinal) && f.EndsWith(".Model.g.cs", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static (int ExitCode, string Output) Dotnet(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet build did not finish in 5 minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

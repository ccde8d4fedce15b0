using System.Diagnostics;

namespace ModelGen.Generator.Tests;

/// <summary>`dotnet build` of a user project with a broken model fails with the MG error at file(line,col).</summary>
public class BuildTests
{
    [Fact]
    public void DotnetBuild_OfABrokenModel_PrintsTheMGErrorAtItsPlace()
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
                  </PropertyGroup>
                  <ItemGroup>
                    <ProjectReference Include="{root}/runtime/ModelGen/ModelGen.csproj" />
                    <ProjectReference Include="{root}/generator/ModelGen.Generator/ModelGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(folder.FullName, "Model.cs"), """
                using ModelGen;

                [Sequential(28, 28, 1)]
                [Conv2D(6, 5, Activation = Activation.Tanh)]
                [MaxPool2D(2)]
                [Dense(10, Activation = Activation.Softmax)]
                public partial class Broken;
                """);

            // A separate artifacts folder keeps this build from touching the repository's bin/obj folders.
            var (exitCode, output) = Dotnet(folder.FullName, "build", "--artifacts-path", Path.Combine(folder.FullName, "artifacts"), "-nologo");
            Assert.NotEqual(0, exitCode);
            Assert.Contains("Model.cs(6,2): error MG0106: Dense(10) (Dense #3) needs a 1-D input but receives 12x12x6 from MaxPool2D #2; insert [Flatten] before it", output);
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

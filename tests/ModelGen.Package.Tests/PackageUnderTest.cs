using System.Reflection;

namespace ModelGen.Package.Tests;

/// <summary>The repository and the ModelGen package that .ci/pack wrote to artifacts/packages.</summary>
internal static class PackageUnderTest
{
    /// <summary>The folder holding ModelGen.sln, recorded at build time (see the project file).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The version in Directory.Build.props, recorded at build time: the package must carry the same one.</summary>
    public static string Version { get; } = Metadata("ModelGenVersion");

    public static string Folder => Path.Combine(RepositoryRoot, "artifacts", "packages");

    /// <summary>Path of ModelGen.{Version}.nupkg; fails with what to run when it is missing.</summary>
    public static string NupkgPath => Require($"ModelGen.{Version}.nupkg");

    /// <summary>Path of the symbols package ModelGen.{Version}.snupkg.</summary>
    public static string SymbolsPath => Require($"ModelGen.{Version}.snupkg");

    private static string Require(string name)
    {
        var path = Path.Combine(Folder, name);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{name} is not in {Folder}. Run .ci/pack from the repository root first (CI runs it before the tests).");
        }

        return path;
    }

    private static string Metadata(string key) =>
        typeof(PackageUnderTest).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no '{key}' metadata; see ModelGen.Package.Tests.csproj.");

    private static string FindRoot()
    {
        var recorded = Metadata("RepositoryRoot");
        if (File.Exists(Path.Combine(recorded, "ModelGen.sln"))) return Path.GetFullPath(recorded);
        throw new InvalidOperationException($"ModelGen.sln not found in the recorded repository root '{recorded}'.");
    }
}

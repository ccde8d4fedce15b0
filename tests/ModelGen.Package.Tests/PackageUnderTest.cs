using System.Reflection;

namespace ModelGen.Package.Tests;

/// <summary>The tests that look at the packages this repository ships; they share one packing per test run.</summary>
[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<PackageUnderTest>
{
    public const string Name = "packages";
}

/// <summary>
/// The packages of this repository, packed once per test run through build/Pack.proj (the same definition .ci/pack uses)
/// into a temporary feed of this fixture's own: no step has to run before the tests, and nothing they read comes from an
/// earlier pack.
/// </summary>
public sealed class PackageUnderTest : IDisposable
{
    private ConsumerFixture? _consumers;

    public PackageUnderTest()
    {
        Folder = Directory.CreateTempSubdirectory("modelgen-packages-").FullName;
        var (exitCode, output) = Dotnet.Run(RepositoryRoot, new Dictionary<string, string>(),
            "msbuild", Path.Combine("build", "Pack.proj"), "-restore", "-nologo", "-v:minimal", "-nodeReuse:false",
            "-p:UseSharedCompilation=false", $"-p:PackageOutputPath={Folder}{Path.DirectorySeparatorChar}");
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"Packing through build/Pack.proj failed (exit {exitCode}):\n{output}");
        }
    }

    /// <summary>The folder holding ModelGen.sln, recorded at build time (see the project file).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The version in Directory.Build.props, recorded at build time: the package must carry the same one.</summary>
    public static string Version { get; } = Metadata("ModelGenVersion");

    /// <summary>The temporary feed the packages were written to.</summary>
    public string Folder { get; }

    /// <summary>Path of ModelGen.{Version}.nupkg.</summary>
    public string NupkgPath => Require($"ModelGen.{Version}.nupkg");

    /// <summary>Path of an optional package ModelGen.{suffix}.{Version}.nupkg (Gpu, Vision, Plotting).</summary>
    public string OptionalNupkgPath(string suffix) => Require($"ModelGen.{suffix}.{Version}.nupkg");

    /// <summary>Path of the symbols package ModelGen.{Version}.snupkg.</summary>
    public string SymbolsPath => Require($"ModelGen.{Version}.snupkg");

    /// <summary>Fresh consumer projects that restore from <see cref="Folder"/> (created on first use).</summary>
    public ConsumerFixture Consumers => _consumers ??= new ConsumerFixture(Folder);

    private string Require(string name)
    {
        var path = Path.Combine(Folder, name);
        if (!File.Exists(path))
        {
            var found = string.Join(", ", Directory.GetFiles(Folder).Select(Path.GetFileName));
            throw new InvalidOperationException($"build/Pack.proj did not write {name} to {Folder} (it wrote: {found}).");
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

    public void Dispose()
    {
        _consumers?.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder does not make a test wrong.
        }
    }
}

using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace ModelGen.Package.Tests;

/// <summary>What the one ModelGen package holds: runtime under lib/, generator and code fixes under analyzers/, metadata.</summary>
[Collection(PackageCollection.Name)]
public class PackageContentTests(PackageUnderTest package)
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private static List<string> Entries(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    private static byte[] Read(string package, string entry)
    {
        using var zip = ZipFile.OpenRead(package);
        using var stream = (zip.GetEntry(entry) ?? throw new InvalidOperationException($"{entry} is not in {package}")).Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private XElement Metadata() =>
        XDocument.Parse(System.Text.Encoding.UTF8.GetString(Read(package.NupkgPath, "ModelGen.nuspec")).TrimStart('\uFEFF'))
            .Root!.Element(Nuspec + "metadata")!;

    [Fact]
    public void Feed_HoldsOnePackageAndOneSymbolsPackagePerPackableProject()
    {
        // What build/Pack.proj packs is decided by the projects themselves (IsPackable), not by a list in this test.
        var expected = new List<string>();
        foreach (var folder in new[] { "runtime", "generator" })
        {
            foreach (var project in Directory.EnumerateFiles(Path.Combine(PackageUnderTest.RepositoryRoot, folder), "*.csproj", SearchOption.AllDirectories))
            {
                var properties = XDocument.Load(project).Descendants("PropertyGroup").Elements().ToList();
                if (properties.LastOrDefault(e => e.Name == "IsPackable")?.Value != "true") continue;
                var id = properties.LastOrDefault(e => e.Name == "PackageId")?.Value ?? Path.GetFileNameWithoutExtension(project);
                expected.Add($"{id}.{PackageUnderTest.Version}.nupkg");
                expected.Add($"{id}.{PackageUnderTest.Version}.snupkg");
            }
        }

        Assert.Contains($"ModelGen.{PackageUnderTest.Version}.nupkg", expected);
        Assert.Equal(expected.Order(), Directory.GetFiles(package.Folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Lib_HoldsExactlyTheRuntimeAndItsXmlDocs()
    {
        var lib = Entries(package.NupkgPath).Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(["lib/net10.0/ModelGen.dll", "lib/net10.0/ModelGen.xml"], lib);
    }

    [Fact]
    public void Analyzers_HoldTheGeneratorAndTheCodeFixes_AndNothingElseDoes()
    {
        var entries = Entries(package.NupkgPath);
        var analyzers = entries.Where(e => e.StartsWith("analyzers/", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(["analyzers/dotnet/cs/ModelGen.CodeFixes.dll", "analyzers/dotnet/cs/ModelGen.Generator.dll"], analyzers);

        // Every assembly in the package is one of the three shipped ones: no tests, sample, benchmarks or Roslyn itself.
        var assemblies = entries.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(Path.GetFileName).Order();
        Assert.Equal(["ModelGen.CodeFixes.dll", "ModelGen.dll", "ModelGen.Generator.dll"], assemblies);
        Assert.DoesNotContain(entries, e =>
            e.Contains("Test", StringComparison.OrdinalIgnoreCase) || e.Contains("Sample", StringComparison.OrdinalIgnoreCase)
            || e.Contains("Benchmark", StringComparison.OrdinalIgnoreCase) || e.Contains("LeNet5", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Generator_TargetsARoslynThatTheDotNet8To10SdksLoad()
    {
        // A generator built against a newer Roslyn than the consumer's compiler is skipped silently (CS9057).
        var references = AssemblyReferences(Read(package.NupkgPath, "analyzers/dotnet/cs/ModelGen.Generator.dll"));
        var roslyn = Assert.Single(references, r => r.Name == "Microsoft.CodeAnalysis");
        Assert.True(roslyn.Version <= new Version(4, 8, 0, 0), $"The generator references Microsoft.CodeAnalysis {roslyn.Version}.");
        Assert.Contains(references, r => r.Name == "netstandard");
        var fixes = AssemblyReferences(Read(package.NupkgPath, "analyzers/dotnet/cs/ModelGen.CodeFixes.dll"));
        Assert.True(Assert.Single(fixes, r => r.Name == "Microsoft.CodeAnalysis.Workspaces").Version <= new Version(4, 8, 0, 0));
    }

    [Fact]
    public void Runtime_IsADeterministicBuild()
    {
        using var pe = new PEReader(new MemoryStream(Read(package.NupkgPath, "lib/net10.0/ModelGen.dll")));
        Assert.Contains(pe.ReadDebugDirectory(), entry => entry.Type == DebugDirectoryEntryType.Reproducible);
    }

    [Fact]
    public void Nuspec_HasTheVersionTheRuntimeDependenciesAndNoRoslyn()
    {
        var metadata = Metadata();
        Assert.Equal("ModelGen", metadata.Element(Nuspec + "id")!.Value);
        Assert.Equal(PackageUnderTest.Version, metadata.Element(Nuspec + "version")!.Value);

        // Expected versions come from the central package versions, not from the package itself.
        var central = XDocument.Load(Path.Combine(PackageUnderTest.RepositoryRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        var group = Assert.Single(metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group"));
        Assert.Equal("net10.0", group.Attribute("targetFramework")!.Value);
        var dependencies = group.Elements(Nuspec + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        // No graphics library (ScottPlot, SkiaSharp: ModelGen.Plotting) and no GPU library (ILGPU: ModelGen.Gpu).
        string[] runtime = ["Google.Protobuf", "MessagePack"];
        Assert.Equal(runtime, dependencies.Keys.Order());
        foreach (var id in runtime) Assert.Equal(central[id], dependencies[id]);
    }

    [Fact]
    public void Nuspec_HasReadmeLicenseAndRepository()
    {
        var metadata = Metadata();
        Assert.Equal("README.md", metadata.Element(Nuspec + "readme")!.Value);
        var license = metadata.Element(Nuspec + "license")!;
        Assert.Equal("expression", license.Attribute("type")!.Value);
        Assert.Equal("MIT", license.Value);
        Assert.StartsWith("https://", metadata.Element(Nuspec + "repository")!.Attribute("url")!.Value);

        var entries = Entries(package.NupkgPath);
        Assert.Contains("README.md", entries);
        Assert.Contains("LICENSE", entries);
        var readme = System.Text.Encoding.UTF8.GetString(Read(package.NupkgPath, "README.md"));
        Assert.Contains("## Getting started (outside this repository)", readme);
    }

    [Fact]
    public void SymbolsPackage_HoldsTheRuntimePdb()
    {
        var entries = Entries(package.SymbolsPath);
        Assert.Contains("lib/net10.0/ModelGen.pdb", entries);
        Assert.DoesNotContain(entries, e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
    }

    private static List<AssemblyName> AssemblyReferences(byte[] image)
    {
        using var pe = new PEReader(new MemoryStream(image));
        var reader = pe.GetMetadataReader();
        return [.. reader.AssemblyReferences.Select(h => reader.GetAssemblyReference(h).GetAssemblyName())];
    }
}

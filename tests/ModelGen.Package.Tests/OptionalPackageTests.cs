using System.IO.Compression;
using System.Xml.Linq;

namespace ModelGen.Package.Tests;

/// <summary>
/// The optional packages beside ModelGen — ModelGen.Gpu (ILGPU), ModelGen.Vision (SkiaSharp, at the versions
/// Directory.Packages.props pins, those ScottPlot brings, so one native Skia) and ModelGen.Plotting (ScottPlot): each
/// holds only its own assembly under lib/, and depends on ModelGen of the same version and on its heavy libraries —
/// which the ModelGen package itself does not bring, so a CPU-only consumer restores none of them.
/// </summary>
[Collection(PackageCollection.Name)]
public class OptionalPackageTests(PackageUnderTest package)
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    /// <summary>Each optional package, by the suffix after "ModelGen.".</summary>
    public static TheoryData<string> Packages => ["Gpu", "Vision", "Plotting"];

    /// <summary>Each optional package and its dependencies besides ModelGen.</summary>
    public static TheoryData<string, string[]> Dependencies => new()
    {
        { "Gpu", ["ILGPU", "ILGPU.Algorithms"] },
        { "Vision", ["SkiaSharp", "SkiaSharp.NativeAssets.Linux.NoDependencies"] },
        { "Plotting", ["ScottPlot"] },
    };

    private static List<string> Entries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Lib_HoldsExactlyItsAssemblyAndXmlDocs_AndNoAnalyzerOrNativeLibrary(string suffix)
    {
        var entries = Entries(package.OptionalNupkgPath(suffix));
        Assert.Equal(
            [$"lib/net10.0/ModelGen.{suffix}.dll", $"lib/net10.0/ModelGen.{suffix}.xml"],
            entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order());
        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal) || e.StartsWith("runtimes/", StringComparison.Ordinal));
        Assert.Equal([$"ModelGen.{suffix}.dll"], entries.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(Dependencies))]
    public void Nuspec_DependsOnModelGenOfTheSameVersionAndOnItsLibrariesAtTheCentralVersions(string suffix, string[] libraries)
    {
        using var zip = ZipFile.OpenRead(package.OptionalNupkgPath(suffix));
        using var reader = new StreamReader(zip.GetEntry($"ModelGen.{suffix}.nuspec")!.Open());
        var metadata = XDocument.Parse(reader.ReadToEnd()).Root!.Element(Nuspec + "metadata")!;
        Assert.Equal($"ModelGen.{suffix}", metadata.Element(Nuspec + "id")!.Value);
        Assert.Equal(PackageUnderTest.Version, metadata.Element(Nuspec + "version")!.Value);

        var central = XDocument.Load(Path.Combine(PackageUnderTest.RepositoryRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        var group = Assert.Single(metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group"));
        Assert.Equal("net10.0", group.Attribute("targetFramework")!.Value);
        var dependencies = group.Elements(Nuspec + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(libraries.Append("ModelGen").Order(StringComparer.Ordinal), dependencies.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(PackageUnderTest.Version, dependencies["ModelGen"]);
        foreach (var library in libraries) Assert.Equal(central[library], dependencies[library]);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void SymbolsPackage_HoldsItsPdb(string suffix)
    {
        var entries = Entries(Path.ChangeExtension(package.OptionalNupkgPath(suffix), ".snupkg"));
        Assert.Contains($"lib/net10.0/ModelGen.{suffix}.pdb", entries);
    }
}

using System.IO.Compression;
using System.Xml.Linq;

namespace ModelGen.Package.Tests;

/// <summary>
/// The optional ModelGen.Vision package: its assembly under lib/, and dependencies on ModelGen of the same version and on
/// SkiaSharp at the versions Directory.Packages.props pins (those ScottPlot brings to ModelGen, so one native Skia).
/// </summary>
[Collection(PackageCollection.Name)]
public class VisionPackageTests(PackageUnderTest package)
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private static List<string> Entries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    [Fact]
    public void Lib_HoldsExactlyTheVisionAssemblyAndItsXmlDocs_AndNoAnalyzerOrNativeLibrary()
    {
        var entries = Entries(package.VisionNupkgPath);
        Assert.Equal(
            ["lib/net10.0/ModelGen.Vision.dll", "lib/net10.0/ModelGen.Vision.xml"],
            entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order());
        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal) || e.StartsWith("runtimes/", StringComparison.Ordinal));
        Assert.Equal(["ModelGen.Vision.dll"], entries.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(Path.GetFileName));
    }

    [Fact]
    public void Nuspec_DependsOnModelGenOfTheSameVersionAndOnSkiaSharp()
    {
        using var zip = ZipFile.OpenRead(package.VisionNupkgPath);
        using var reader = new StreamReader(zip.GetEntry("ModelGen.Vision.nuspec")!.Open());
        var metadata = XDocument.Parse(reader.ReadToEnd()).Root!.Element(Nuspec + "metadata")!;
        Assert.Equal("ModelGen.Vision", metadata.Element(Nuspec + "id")!.Value);
        Assert.Equal(PackageUnderTest.Version, metadata.Element(Nuspec + "version")!.Value);

        var central = XDocument.Load(Path.Combine(PackageUnderTest.RepositoryRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        var group = Assert.Single(metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group"));
        Assert.Equal("net10.0", group.Attribute("targetFramework")!.Value);
        var dependencies = group.Elements(Nuspec + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(["ModelGen", "SkiaSharp", "SkiaSharp.NativeAssets.Linux.NoDependencies"], dependencies.Keys.Order());
        Assert.Equal(PackageUnderTest.Version, dependencies["ModelGen"]);
        Assert.Equal(central["SkiaSharp"], dependencies["SkiaSharp"]);
        Assert.Equal(central["SkiaSharp.NativeAssets.Linux.NoDependencies"], dependencies["SkiaSharp.NativeAssets.Linux.NoDependencies"]);
    }
}

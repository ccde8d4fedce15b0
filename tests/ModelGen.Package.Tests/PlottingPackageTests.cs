using System.IO.Compression;
using System.Xml.Linq;

namespace ModelGen.Package.Tests;

/// <summary>
/// The optional ModelGen.Plotting package: its assembly under lib/, and dependencies on ModelGen of the same version and
/// on ScottPlot (which brings SkiaSharp and its native libraries) — which the ModelGen package itself does not bring.
/// </summary>
[Collection(PackageCollection.Name)]
public class PlottingPackageTests(PackageUnderTest package)
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private static List<string> Entries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    [Fact]
    public void Lib_HoldsExactlyThePlottingAssemblyAndItsXmlDocs_AndNoAnalyzer()
    {
        var entries = Entries(package.PlottingNupkgPath);
        Assert.Equal(
            ["lib/net10.0/ModelGen.Plotting.dll", "lib/net10.0/ModelGen.Plotting.xml"],
            entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order());
        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal));
        Assert.Equal(["ModelGen.Plotting.dll"], entries.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(Path.GetFileName));
    }

    [Fact]
    public void Nuspec_DependsOnModelGenOfTheSameVersionAndOnScottPlot()
    {
        using var zip = ZipFile.OpenRead(package.PlottingNupkgPath);
        using var reader = new StreamReader(zip.GetEntry("ModelGen.Plotting.nuspec")!.Open());
        var metadata = XDocument.Parse(reader.ReadToEnd()).Root!.Element(Nuspec + "metadata")!;
        Assert.Equal("ModelGen.Plotting", metadata.Element(Nuspec + "id")!.Value);
        Assert.Equal(PackageUnderTest.Version, metadata.Element(Nuspec + "version")!.Value);

        var central = XDocument.Load(Path.Combine(PackageUnderTest.RepositoryRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        var group = Assert.Single(metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group"));
        Assert.Equal("net10.0", group.Attribute("targetFramework")!.Value);
        var dependencies = group.Elements(Nuspec + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(["ModelGen", "ScottPlot"], dependencies.Keys.Order());
        Assert.Equal(PackageUnderTest.Version, dependencies["ModelGen"]);
        Assert.Equal(central["ScottPlot"], dependencies["ScottPlot"]);
    }

    [Fact]
    public void SymbolsPackage_HoldsThePlottingAssemblyPdb()
    {
        var entries = Entries(Path.ChangeExtension(package.PlottingNupkgPath, ".snupkg"));
        Assert.Contains("lib/net10.0/ModelGen.Plotting.pdb", entries);
    }
}

using System.IO.Compression;
using System.Xml.Linq;

namespace ModelGen.Package.Tests;

/// <summary>
/// The optional ModelGen.Gpu package: its assembly under lib/, and dependencies on ModelGen of the same version and on
/// ILGPU — which the ModelGen package itself does not bring, so a CPU-only consumer restores no GPU library.
/// </summary>
[Collection(PackageCollection.Name)]
public class GpuPackageTests(PackageUnderTest package)
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private static List<string> Entries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    [Fact]
    public void Lib_HoldsExactlyTheGpuRuntimeAndItsXmlDocs_AndNoAnalyzer()
    {
        var entries = Entries(package.GpuNupkgPath);
        Assert.Equal(
            ["lib/net10.0/ModelGen.Gpu.dll", "lib/net10.0/ModelGen.Gpu.xml"],
            entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order());
        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal));
        Assert.Equal(["ModelGen.Gpu.dll"], entries.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(Path.GetFileName));
    }

    [Fact]
    public void Nuspec_DependsOnModelGenOfTheSameVersionAndOnIlgpu()
    {
        using var zip = ZipFile.OpenRead(package.GpuNupkgPath);
        using var reader = new StreamReader(zip.GetEntry("ModelGen.Gpu.nuspec")!.Open());
        var metadata = XDocument.Parse(reader.ReadToEnd()).Root!.Element(Nuspec + "metadata")!;
        Assert.Equal("ModelGen.Gpu", metadata.Element(Nuspec + "id")!.Value);
        Assert.Equal(PackageUnderTest.Version, metadata.Element(Nuspec + "version")!.Value);

        var central = XDocument.Load(Path.Combine(PackageUnderTest.RepositoryRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        var group = Assert.Single(metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group"));
        Assert.Equal("net10.0", group.Attribute("targetFramework")!.Value);
        var dependencies = group.Elements(Nuspec + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(["ILGPU", "ILGPU.Algorithms", "ModelGen"], dependencies.Keys.Order());
        Assert.Equal(PackageUnderTest.Version, dependencies["ModelGen"]);
        Assert.Equal(central["ILGPU"], dependencies["ILGPU"]);
        Assert.Equal(central["ILGPU.Algorithms"], dependencies["ILGPU.Algorithms"]);
    }

    [Fact]
    public void SymbolsPackage_HoldsTheGpuRuntimePdb()
    {
        var entries = Entries(Path.ChangeExtension(package.GpuNupkgPath, ".snupkg"));
        Assert.Contains("lib/net10.0/ModelGen.Gpu.pdb", entries);
    }
}

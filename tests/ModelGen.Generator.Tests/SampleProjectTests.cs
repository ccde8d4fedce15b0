using System.Xml.Linq;

namespace ModelGen.Generator.Tests;

/// <summary>samples/LeNet5 references ModelGen the way the package delivers it.</summary>
public class SampleProjectTests
{
    private static IEnumerable<XElement> ProjectReferences(string project) =>
        XDocument.Load(Path.Combine(RepositoryRoot.Path, project)).Descendants("ProjectReference");

    private static string ProjectName(XElement reference) => Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value);

    [Fact]
    public void Sample_ReferencesAsAnalyzers_EveryProjectThePackageShipsUnderAnalyzers()
    {
        // What runtime/ModelGen.csproj packs under analyzers/dotnet/cs: the generator (with the analyzer) and the code fixes.
        var packed = ProjectReferences("runtime/ModelGen/ModelGen.csproj")
            .Where(r => r.Attribute("OutputItemType")?.Value == "ModelGenPackageAnalyzer")
            .Select(ProjectName)
            .Order()
            .ToList();
        Assert.Equal(["ModelGen.CodeFixes", "ModelGen.Generator"], packed);

        var sample = ProjectReferences("samples/LeNet5/LeNet5.csproj").ToList();
        var analyzers = sample
            .Where(r => r.Attribute("OutputItemType")?.Value == "Analyzer" && r.Attribute("ReferenceOutputAssembly")?.Value == "false")
            .Select(ProjectName)
            .Order()
            .ToList();
        Assert.Equal(packed, analyzers);
        Assert.Contains(sample, r => ProjectName(r) == "ModelGen" && r.Attribute("OutputItemType") is null);
    }
}

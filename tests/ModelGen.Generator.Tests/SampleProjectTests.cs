using System.Xml.Linq;

namespace ModelGen.Generator.Tests;

/// <summary>samples/LeNet5 and samples/DigitPad reference ModelGen the way the package delivers it.</summary>
public class SampleProjectTests
{
    private static IEnumerable<XElement> ProjectReferences(string project) =>
        XDocument.Load(Path.Combine(RepositoryRoot.Path, project)).Descendants("ProjectReference");

    private static string ProjectName(XElement reference) => Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value);

    [Theory]
    [InlineData("samples/LeNet5/LeNet5.csproj")]
    [InlineData("samples/DigitPad/DigitPad.csproj")]
    public void Sample_ReferencesAsAnalyzers_EveryProjectThePackageShipsUnderAnalyzers(string project)
    {
        // What runtime/ModelGen.csproj packs under analyzers/dotnet/cs: the generator (with the analyzer) and the code fixes.
        var packed = ProjectReferences("runtime/ModelGen/ModelGen.csproj")
            .Where(r => r.Attribute("OutputItemType")?.Value == "ModelGenPackageAnalyzer")
            .Select(ProjectName)
            .Order()
            .ToList();
        Assert.Equal(["ModelGen.CodeFixes", "ModelGen.Generator"], packed);

        var sample = ProjectReferences(project).ToList();
        var analyzers = sample
            .Where(r => r.Attribute("OutputItemType")?.Value == "Analyzer" && r.Attribute("ReferenceOutputAssembly")?.Value == "false")
            .Select(ProjectName)
            .Order()
            .ToList();
        Assert.Equal(packed, analyzers);
        Assert.Contains(sample, r => ProjectName(r) == "ModelGen" && r.Attribute("OutputItemType") is null);
    }

    [Fact]
    public void DigitPad_ReferencesNoGpuPackage_AndCompilesTheLeNet5SamplesOwnDeclaration()
    {
        // The browser bundle carries the CPU runtime only; the network is the sample's (one source file, one fingerprint).
        var project = XDocument.Load(Path.Combine(RepositoryRoot.Path, "samples/DigitPad/DigitPad.csproj"));
        Assert.DoesNotContain(project.Descendants("ProjectReference"), r => ProjectName(r) == "ModelGen.Gpu");
        Assert.Contains(project.Descendants("Compile"), c => c.Attribute("Include")?.Value == "../LeNet5/LeNet5.cs");
    }
}

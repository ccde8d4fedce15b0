using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Every MG warning can be silenced with <c>#pragma warning disable</c> and given another severity in .editorconfig,
/// because the analyzer reports it on the user's own syntax tree.
/// </summary>
public class SuppressionTests
{
    /// <summary>A model that raises each warning once, with the attribute at fault marked [|…|].</summary>
    private static readonly Dictionary<string, string> WarnedModels = new()
    {
        ["MG0111"] = "using ModelGen;\n[Sequential(4)]\n[|[Flatten]|]\n[Dense(2)]\npublic partial class Model;\n",
    };

    private static IEnumerable<string> WarningIdList() =>
        Descriptors.All.Where(d => d.DefaultSeverity == DiagnosticSeverity.Warning).Select(d => d.Id);

    public static TheoryData<string> WarningIds() => [.. WarningIdList()];

    [Fact]
    public void EveryWarningHasAModelThatRaisesIt() =>
        Assert.Equal(WarningIdList().Order(), WarnedModels.Keys.Order());

    [Theory]
    [MemberData(nameof(WarningIds))]
    public void Warning_IsReportedWithoutSuppression(string id)
    {
        var markup = Markup.Parse(WarnedModels[id]);
        var diagnostic = Assert.Single(GeneratorHarness.Run(markup.Source).AnalyzerDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(markup.Line, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Theory]
    [MemberData(nameof(WarningIds))]
    public void PragmaWarningDisable_SilencesTheWarning(string id)
    {
        var source = WarnedModels[id].Replace("[|", $"#pragma warning disable {id}\n").Replace("|]", $"\n#pragma warning restore {id}");
        var run = GeneratorHarness.Run(source);
        Assert.Empty(run.AnalyzerDiagnostics);
        Assert.Empty(run.Errors);
        Assert.NotEmpty(run.Sources);
    }

    [Theory]
    [MemberData(nameof(WarningIds))]
    public async Task EditorConfigSeverity_AppliesToTheWarning(string id)
    {
        var source = Markup.Parse(WarnedModels[id]).Source;
        Assert.Empty(await DiagnosticsWithEditorConfig(source, $"dotnet_diagnostic.{id}.severity = none"));

        var raised = Assert.Single(await DiagnosticsWithEditorConfig(source, $"dotnet_diagnostic.{id}.severity = error"));
        Assert.Equal(id, raised.Id);
        Assert.Equal(DiagnosticSeverity.Error, raised.Severity);

        var suggestion = Assert.Single(await DiagnosticsWithEditorConfig(source, $"dotnet_diagnostic.{id}.severity = suggestion"));
        Assert.Equal(DiagnosticSeverity.Info, suggestion.Severity);
    }

    /// <summary>The analyzer's diagnostics for a project that has <paramref name="setting"/> in its .editorconfig, as an IDE builds it.</summary>
    private static async Task<IReadOnlyList<Diagnostic>> DiagnosticsWithEditorConfig(string source, string setting)
    {
        using var workspace = new AdhocWorkspace();
        var project = workspace.CurrentSolution
            .AddProject("Consumer", "Consumer", LanguageNames.CSharp)
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.Latest))
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable))
            .AddMetadataReferences(GeneratorHarness.References);
        project = project.AddDocument("Model.cs", SourceText.From(source), filePath: "/src/Model.cs").Project;
        project = project.AddAnalyzerConfigDocument(".editorconfig", SourceText.From($"root = true\n\n[*.cs]\n{setting}\n"), filePath: "/src/.editorconfig").Project;
        var compilation = (await project.GetCompilationAsync())!;
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return GeneratorHarness.AnalyzerDiagnostics(output);
    }
}

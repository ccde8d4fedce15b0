using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator;
using ModelGen.Generator.Analysis;

namespace ModelGen.CodeFixes.Tests;

/// <summary>
/// Runs a code fix as the IDE does: a workspace document, the real generator for its diagnostics, the provider's
/// registered actions, and their ApplyChangesOperation applied to the solution.
/// </summary>
internal static class CodeFixHarness
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The .NET 10 reference assemblies, the ModelGen runtime and what it references (ILGPU, ...).</summary>
    private static readonly ImmutableArray<MetadataReference> References = BuildReferences();

    private static ImmutableArray<MetadataReference> BuildReferences()
    {
        var references = new List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);
        var runtime = typeof(SequentialAttribute).Assembly;
        references.Add(MetadataReference.CreateFromFile(runtime.Location));
        foreach (var name in runtime.GetReferencedAssemblies())
        {
            if (name.Name is null || name.Name.StartsWith("System", StringComparison.Ordinal) || name.Name == "netstandard") continue;
            references.Add(MetadataReference.CreateFromFile(Assembly.Load(name).Location));
        }

        return [.. references];
    }

    public static Document CreateDocument(string source, string fileName = "Model.cs")
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.CurrentSolution
            .AddProject("Consumer", "Consumer", LanguageNames.CSharp)
            .WithParseOptions(ParseOptions)
            .WithCompilationOptions(new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true))
            .AddMetadataReferences(References);
        return project.AddDocument(fileName, SourceText.From(source), filePath: "/src/" + fileName);
    }

    /// <summary>
    /// What the IDE shows: the generator's own diagnostics (none are expected), the MG analyzer's over the compilation
    /// with the generated code, and the compiler's errors over user and generated code.
    /// </summary>
    public static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(Project project)
    {
        var compilation = (await project.GetCompilationAsync())!;
        var driver = CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzerDiagnostics = await output.WithAnalyzers([new ModelAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        return [.. generatorDiagnostics, .. analyzerDiagnostics, .. output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
    }

    /// <summary>The code actions <paramref name="provider"/> registers for <paramref name="diagnostic"/>.</summary>
    public static async Task<IReadOnlyList<CodeAction>> ActionsAsync(CodeFixProvider provider, Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await provider.RegisterCodeFixesAsync(context);
        return actions;
    }

    /// <summary>Applies the single action's changes and returns the changed document.</summary>
    public static async Task<Document> ApplyAsync(CodeAction action, Document document)
    {
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        var apply = Assert.IsType<ApplyChangesOperation>(Assert.Single(operations));
        return apply.ChangedSolution.GetDocument(document.Id)!;
    }

    /// <summary>
    /// Source → analyzer diagnostic <paramref name="id"/> → the provider's one action with <paramref name="title"/> → the fixed text,
    /// which must then build without any error (so without MG errors, and the generated code compiles).
    /// </summary>
    public static async Task<string> FixAsync(CodeFixProvider provider, string id, string title, string source)
    {
        var document = CreateDocument(source);
        var diagnostics = await DiagnosticsAsync(document.Project);
        var diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Contains(id, provider.FixableDiagnosticIds);
        var action = Assert.Single(await ActionsAsync(provider, document, diagnostic));
        Assert.Equal(title, action.Title);
        var fixedDocument = await ApplyAsync(action, document);
        var after = await DiagnosticsAsync(fixedDocument.Project);
        Assert.True(after.IsEmpty, "The fixed source still has diagnostics:\n" + string.Join("\n", after));
        return (await fixedDocument.GetTextAsync()).ToString();
    }
}

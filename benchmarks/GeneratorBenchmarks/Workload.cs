using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator;
using ModelGen.Generator.Analysis;

namespace ModelGen.GeneratorBenchmarks;

/// <summary>
/// What the compiler gives the generator and the analyzer for the LeNet5 sample: its model file as written, one
/// unrelated file, and the .NET 10, ModelGen and ModelGen.Gpu references; plus the edits that the incremental runs see.
/// </summary>
internal sealed class Workload
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public const string Other = "namespace LeNet5Sample; public static class Helper { public static int Twice(int x) => x * 2; }\n";

    private static readonly string Root =
        typeof(Workload).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>As the sample's: .NET 10, the ModelGen runtime, and ModelGen.Gpu with ILGPU (so the GPU kernels are generated too).</summary>
    private static readonly MetadataReference[] References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(SequentialAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(ModelGen.Gpu.GpuSession).Assembly.Location),
        .. typeof(ModelGen.Gpu.GpuSession).Assembly.GetReferencedAssemblies()
            .Where(name => name.Name?.StartsWith("ILGPU", StringComparison.Ordinal) == true)
            .Select(name => MetadataReference.CreateFromFile(Assembly.Load(name).Location)),
    ];

    public static readonly string ModelSource = File.ReadAllText(Path.Combine(Root, "samples", "LeNet5", "LeNet5.cs"));

    /// <summary>The model with one layer changed, as a keystroke in the model file leaves it.</summary>
    public static readonly string EditedModelSource = ModelSource.Replace("[Conv2D(6, 5,", "[Conv2D(7, 5,");

    /// <summary>A new compilation of fresh trees: what each build (or each project load) hands the generator.</summary>
    public Workload()
    {
        Compilation = CSharpCompilation.Create(
            "LeNet5Sample",
            [Parse(ModelSource, "LeNet5.cs"), Parse(Other, "Helper.cs")],
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    public CSharpCompilation Compilation { get; }

    public SyntaxTree ModelTree => Compilation.SyntaxTrees[0];

    public SyntaxTree OtherTree => Compilation.SyntaxTrees[1];

    public static SyntaxTree Parse(string text, string path) => CSharpSyntaxTree.ParseText(text, ParseOptions, path);

    /// <summary>A fresh driver: nothing cached, as in every command-line build.</summary>
    public static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: ParseOptions);

    /// <summary>The compilation with <paramref name="tree"/>'s text replaced, as an editor's keystroke does.</summary>
    public Compilation WithText(SyntaxTree tree, string text) =>
        Compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(text)));

    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation) =>
        compilation.WithAnalyzers([new ModelAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
}

using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelGen.Generator;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Tests;

/// <summary>Runs the real generator inside a real C# compilation, as the SDK does, and compiles the result.</summary>
internal static class GeneratorHarness
{
    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    /// <summary>The .NET 10 reference assemblies plus the ModelGen runtime and everything it references: a CPU-only project.</summary>
    public static readonly ImmutableArray<MetadataReference> References = BuildReferences(typeof(SequentialAttribute).Assembly);

    /// <summary><see cref="References"/> plus ModelGen.Gpu and ILGPU: a project where the generator also writes GPU kernels.</summary>
    public static readonly ImmutableArray<MetadataReference> GpuReferences =
        BuildReferences(typeof(SequentialAttribute).Assembly, typeof(ModelGen.Gpu.GpuSession).Assembly);

    private static ImmutableArray<MetadataReference> BuildReferences(params Assembly[] libraries)
    {
        var references = new List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);
        var added = new HashSet<string>(StringComparer.Ordinal);
        foreach (var library in libraries)
        {
            if (added.Add(library.Location)) references.Add(MetadataReference.CreateFromFile(library.Location));
            foreach (var name in library.GetReferencedAssemblies())
            {
                if (name.Name is null || name.Name.StartsWith("System", StringComparison.Ordinal) || name.Name is "netstandard" or "mscorlib") continue;
                var assembly = Assembly.Load(name);
                if (added.Add(assembly.Location)) references.Add(MetadataReference.CreateFromFile(assembly.Location));
            }
        }

        return [.. references];
    }

    public static CSharpCompilation Compilation(params string[] sources) => Compilation(References, sources);

    /// <summary>A compilation that references ModelGen.Gpu (the generator writes GPU kernels too).</summary>
    public static CSharpCompilation GpuCompilation(params string[] sources) => Compilation(GpuReferences, sources);

    private static CSharpCompilation Compilation(ImmutableArray<MetadataReference> references, string[] sources) =>
        CSharpCompilation.Create(
            "ModelGenTestAssembly" + Guid.NewGuid().ToString("N"),
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, s_parseOptions, path: $"Model{i}.cs")),
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true)
                // As the SDK does: ILGPU targets an older System.Runtime, which unifies with .NET 10's.
                .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));

    public static GeneratorDriver Driver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new ModelGenerator().AsSourceGenerator()],
            parseOptions: s_parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>
    /// Runs the generator, then the analyzer over the compilation with the generated code (as a build does); returns
    /// the updated compilation, the generator's own diagnostics, the analyzer's and the run result.
    /// </summary>
    public static GeneratorRun Run(params string[] sources) => Run(Compilation(sources));

    /// <summary>As <see cref="Run(string[])"/>, in a project that references ModelGen.Gpu.</summary>
    public static GeneratorRun RunWithGpu(params string[] sources) => Run(GpuCompilation(sources));

    private static GeneratorRun Run(CSharpCompilation compilation)
    {
        var driver = Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new GeneratorRun(compilation, output, generatorDiagnostics, AnalyzerDiagnostics(output), driver.GetRunResult());
    }

    /// <summary>The MG analyzer's diagnostics over <paramref name="compilation"/>, with pragmas and severities applied.</summary>
    public static ImmutableArray<Diagnostic> AnalyzerDiagnostics(Compilation compilation) =>
        compilation.WithAnalyzers([new ModelAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

    /// <summary>Compiles <paramref name="compilation"/> to memory and loads the assembly into a collectible context.</summary>
    public static Assembly Load(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        if (!emit.Success)
        {
            throw new InvalidOperationException("Compilation failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        stream.Position = 0;
        var context = new AssemblyLoadContext("ModelGenTest" + Guid.NewGuid().ToString("N"), isCollectible: true);
        return context.LoadFromStream(stream);
    }
}

internal sealed record GeneratorRun(
    Compilation Input,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> AnalyzerDiagnostics,
    GeneratorDriverRunResult Result)
{
    /// <summary>Every diagnostic: the generator's, the analyzer's and the compiler's over user and generated code.</summary>
    public IReadOnlyList<Diagnostic> AllDiagnostics =>
        [.. GeneratorDiagnostics, .. AnalyzerDiagnostics, .. Output.GetDiagnostics()];

    public IEnumerable<Diagnostic> Errors => AllDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    public Exception? GeneratorException => Result.Results.Single().Exception;

    public IReadOnlyList<GeneratedSourceResult> Sources => Result.Results.Single().GeneratedSources;

    public string Source(string hintSuffix) =>
        Sources.Single(s => s.HintName.EndsWith(hintSuffix, StringComparison.Ordinal)).SourceText.ToString();

    /// <summary>Compiles to memory and loads the assembly into a collectible context.</summary>
    public Assembly Load() => GeneratorHarness.Load(Output);
}
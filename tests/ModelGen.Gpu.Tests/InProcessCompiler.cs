using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelGen.Generator;

namespace ModelGen.Gpu.Tests;

/// <summary>Compiles model sources with the real generator in-process, with or without ModelGen.Gpu referenced.</summary>
internal static class InProcessCompiler
{
    /// <summary>The generated sources and the loaded assembly.</summary>
    public static (Assembly Assembly, IReadOnlyList<string> HintNames) Compile(IEnumerable<string> sources, bool referenceGpu)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var references = new List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);
        AddWithDependencies(references, typeof(INetwork).Assembly);
        if (referenceGpu) AddWithDependencies(references, typeof(GpuSession).Assembly);
        var compilation = CSharpCompilation.Create(
            "InProcess" + Guid.NewGuid().ToString("N"),
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"Model{i}.cs")),
            references.DistinctBy(r => r.Display),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true)
                // As the SDK does: ILGPU targets an older System.Runtime, which unifies with .NET 10's.
                .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
        var driver = CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var problems = generatorDiagnostics.Concat(output.GetDiagnostics()).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, "The models do not compile cleanly:\n" + string.Join("\n", problems.Take(20)) + "\n" + string.Join("\n", sources));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        stream.Position = 0;
        var assembly = new AssemblyLoadContext("InProcess" + Guid.NewGuid().ToString("N"), isCollectible: true).LoadFromStream(stream);
        return (assembly, driver.GetRunResult().GeneratedTrees.Select(t => Path.GetFileName(t.FilePath)).ToList());
    }

    private static void AddWithDependencies(List<MetadataReference> references, Assembly assembly)
    {
        references.Add(MetadataReference.CreateFromFile(assembly.Location));
        foreach (var name in assembly.GetReferencedAssemblies())
        {
            if (name.Name is null || name.Name.StartsWith("System", StringComparison.Ordinal) || name.Name is "netstandard" or "mscorlib") continue;
            references.Add(MetadataReference.CreateFromFile(Assembly.Load(name).Location));
        }
    }
}

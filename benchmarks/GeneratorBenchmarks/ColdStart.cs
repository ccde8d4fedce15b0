using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelGen.GeneratorBenchmarks;

/// <summary>
/// The cost a command-line build pays (csc is a new process per build where the compiler server is off): ModelGen's
/// first run in a process whose Roslyn generator machinery is already warm, so that only ModelGen's own start-up
/// (loading and JIT-compiling its code) and work are timed; then the same on a new compilation once warm.
/// </summary>
internal static class ColdStart
{
    public static void Run()
    {
        // Warm Roslyn's incremental pipeline (ForAttributeWithMetadataName, binding of attributes, source output) with a
        // generator that only looks for the same attribute and adds a file, as the SDK's own generators do in every build.
        CSharpGeneratorDriver.Create([new PlainGenerator().AsSourceGenerator()]).RunGenerators(new Workload().Compilation);

        var compilation = new Workload().Compilation;
        compilation.GetDeclarationDiagnostics();
        var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
        var jitTime = System.Runtime.JitInfo.GetCompilationTime();
        var clock = Stopwatch.StartNew();
        Workload.NewDriver().RunGenerators(compilation);
        var cold = clock.Elapsed.TotalMilliseconds;
        jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods;
        var jitMs = (System.Runtime.JitInfo.GetCompilationTime() - jitTime).TotalMilliseconds;
        clock.Restart();
        Workload.NewDriver().RunGenerators(new Workload().Compilation);
        var warm = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine($"ModelGen generator, LeNet-5: first run in the process {cold:0.0} ms ({jitMethods} methods JIT-compiled in {jitMs:0.0} ms), next run on a new compilation {warm:0.0} ms");
    }

    private sealed class PlainGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var names = context.SyntaxProvider.ForAttributeWithMetadataName(
                "ModelGen.SequentialAttribute", static (node, _) => node is ClassDeclarationSyntax, static (c, _) => c.TargetSymbol.Name + c.Attributes.Length);
            context.RegisterSourceOutput(names, static (spc, name) => spc.AddSource(name + ".g.cs", "// " + name + "\n"));
        }
    }
}

using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Parsing;

namespace ModelGen.GeneratorBenchmarks;

/// <summary>Times each stage of one generator run on LeNet-5 with a stopwatch: the first call (JIT included) and the median of later ones.</summary>
internal static class Breakdown
{
    public static void Run()
    {
        var workload = new Workload();
        var declaration = workload.ModelTree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>().Single();
        var model = workload.Compilation.GetSemanticModel(workload.ModelTree);
        var symbol = (INamedTypeSymbol)model.GetDeclaredSymbol(declaration)!;
        var sequential = symbol.GetAttributes().First(a => a.AttributeClass!.Name == "SequentialAttribute");
        var plan = ModelParser.Parse(declaration, symbol, sequential, default).Plan!;

        Time("parse + plan", () => ModelParser.Parse(declaration, symbol, sequential, default));
        Time("emit model surface", () => ModelSurfaceEmitter.Emit(plan));
        Time("emit CPU passes", () => CpuEmitter.Emit(plan));
        Time("emit GPU kernels", () => GpuEmitter.Emit(plan));
        Time("whole first run (fresh driver)", () => Workload.NewDriver().RunGenerators(workload.Compilation));
        Time("first run on a new compilation", () => Workload.NewDriver().RunGenerators(new Workload().Compilation));
        Time("analyzer on the compilation", () => Workload.Analyze(workload.Compilation));
        Time("analyzer on a new compilation", () => Workload.Analyze(new Workload().Compilation));
        Time("new compilation: declaration diagnostics only", () => new Workload().Compilation.GetDeclarationDiagnostics());
    }

    private static void Time(string what, Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        var first = clock.Elapsed.TotalMilliseconds;
        var later = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            clock.Restart();
            action();
            later.Add(clock.Elapsed.TotalMilliseconds);
        }

        later.Sort();
        Console.WriteLine($"{what,-34} first {first,8:0.0} ms   then median {later[later.Count / 2],7:0.00} ms");
    }
}

using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Tests;

/// <summary>The pipeline caches: unrelated edits and moves do not regenerate source; the spec holds no compiler objects.</summary>
public class IncrementalTests
{
    private const string Model = """
        using ModelGen;

        namespace Samples;

        [Sequential(12, 12, 1)]
        [Conv2D(4, 3, Padding = Padding.Same, Activation = Activation.Relu)]
        [MaxPool2D(2)]
        [Flatten]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class Small;
        """;

    private const string Other = "namespace Samples; public static class Helper { public static int Twice(int x) => x * 2; }\n";

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun(bool gpu = false)
    {
        var compilation = gpu ? GeneratorHarness.GpuCompilation(Model, Other) : GeneratorHarness.Compilation(Model, Other);
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        return (driver, compilation);
    }

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnrelatedEdit_LeavesEveryStepCachedOrUnchanged(bool gpu)
    {
        var (driver, compilation) = FirstRun(gpu);
        var otherTree = compilation.SyntaxTrees.ElementAt(1);
        var edited = compilation.ReplaceSyntaxTree(otherTree, otherTree.WithChangedText(SourceText.From(Other + "// an unrelated edit\n")));
        driver = driver.RunGenerators(edited);

        // The reference check reruns on every compilation, but its value (a bool) is unchanged, so the GPU plans stay cached.
        var steps = gpu
            ? new[] { ModelGenerator.Steps.Parse, ModelGenerator.Steps.Plan, ModelGenerator.Steps.GpuReferenced, ModelGenerator.Steps.GpuPlan }
            : new[] { ModelGenerator.Steps.Parse, ModelGenerator.Steps.Plan };
        foreach (var step in steps)
        {
            var reasons = Reasons(driver, step).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
    }

    [Fact]
    public void MovingTheModel_MovesItsDiagnosticButDoesNotRegenerateSource()
    {
        // A model with a warning (MG0111): its location moves, its generated source must not be redone.
        const string warned = "using ModelGen;\n[Sequential(4)]\n[Flatten]\n[Dense(2)]\npublic partial class Warned;\n";
        var compilation = GeneratorHarness.Compilation(warned, Other);
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.First();
        var moved = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From("\n\n// moved down\n" + warned)));
        driver = driver.RunGeneratorsAndUpdateCompilation(moved, out var movedOutput, out _);

        Assert.All(Reasons(driver, ModelGenerator.Steps.Plan), r => Assert.True(r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, r.ToString()));
        Assert.Empty(driver.GetRunResult().Diagnostics);
        var diagnostic = Assert.Single(GeneratorHarness.AnalyzerDiagnostics(movedOutput));
        Assert.Equal("MG0111", diagnostic.Id);
        Assert.Equal(5, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GpuKernels_AreGeneratedOnlyWhereModelGenGpuIsReferenced(bool gpu)
    {
        var (driver, _) = FirstRun(gpu);
        var hints = driver.GetRunResult().Results.Single().GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Contains("Samples.Small.Cpu.g.cs", hints);
        Assert.Equal(gpu, hints.Contains("Samples.Small.Gpu.g.cs"));
    }

    [Fact]
    public void AddingTheGpuReference_AddsTheKernelsWithoutReplanning()
    {
        var (driver, compilation) = FirstRun(gpu: false);
        var withGpu = compilation.AddReferences(GeneratorHarness.GpuReferences.Except(GeneratorHarness.References));
        driver = driver.RunGenerators(withGpu);

        Assert.All(Reasons(driver, ModelGenerator.Steps.Plan), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.Contains(IncrementalStepRunReason.New, Reasons(driver, ModelGenerator.Steps.GpuPlan));
        Assert.Contains(driver.GetRunResult().Results.Single().GeneratedSources, s => s.HintName == "Samples.Small.Gpu.g.cs");
    }

    [Fact]
    public void ChangingALayer_RegeneratesSource()
    {
        var (driver, compilation) = FirstRun();
        var modelTree = compilation.SyntaxTrees.First();
        var changed = compilation.ReplaceSyntaxTree(modelTree, modelTree.WithChangedText(SourceText.From(Model.Replace("Conv2D(4, 3", "Conv2D(5, 3"))));
        driver = driver.RunGenerators(changed);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, ModelGenerator.Steps.Plan));
    }

    /// <summary>
    /// Walks the types (and the actual values) of what the parse step caches: no ISymbol, SyntaxNode, Location,
    /// SyntaxTree, SemanticModel or Compilation may survive it, or caching would hold whole compilations alive.
    /// </summary>
    [Fact]
    public void ParseStep_HoldsNoCompilerObjects()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(SyntaxTree), typeof(SemanticModel), typeof(Compilation), typeof(AttributeData) };
        var seen = new HashSet<Type>();
        void WalkType(Type type)
        {
            if (!seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string)) return;
            Assert.DoesNotContain(forbidden, f => f.IsAssignableFrom(type));
            if (type.IsArray) WalkType(type.GetElementType()!);
            foreach (var argument in type.GetGenericArguments()) WalkType(argument);
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)) WalkType(field.FieldType);
        }

        // And the real values produced for a valid and a broken model (catches object-typed fields holding compiler
        // objects): the valid one's plan, the broken one's stub.
        var compilation = GeneratorHarness.Compilation(Model, Model.Replace("Small", "Broken").Replace("[Dense(10,", "[Dense(10, InputShape = new[] { 9 },"));
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        var outputs = driver.GetRunResult().Results.Single().TrackedSteps[ModelGenerator.Steps.Parse].SelectMany(s => s.Outputs).Select(o => o.Value).ToList();
        var models = outputs.Select(o => Assert.IsType<GeneratorModel>(o)).ToList();
        Assert.Equal(2, models.Count);
        Assert.Equal("Small", Assert.Single(models, m => m.Plan is not null).Plan!.ClassName);
        Assert.Equal("Broken", Assert.Single(models, m => m.Stub is not null).Stub!.ClassName);
        foreach (var model in models)
        {
            WalkType(model.GetType());
            WalkValue(model, forbidden, new HashSet<object>(ReferenceEqualityComparer.Instance));
        }

        Assert.Contains(typeof(LayerPlan), seen);
    }

    private static void WalkValue(object? value, Type[] forbidden, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.DoesNotContain(forbidden, f => f.IsInstanceOfType(value));
        if (value is IEnumerable items)
        {
            foreach (var item in items) WalkValue(item, forbidden, seen);
        }

        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            WalkValue(field.GetValue(value), forbidden, seen);
        }
    }

    [Fact]
    public void EquatableArray_ComparesByElements()
    {
        var a = new EquatableArray<int>([1, 2, 3]);
        var b = new EquatableArray<int>([1, 2, 3]);
        var c = new EquatableArray<int>([1, 2, 4]);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
        Assert.Equal(EquatableArray<int>.Empty, default);
    }
}

using Microsoft.CodeAnalysis;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Tests;

/// <summary>
/// GeneratedNames, the names a model class and its members must not take, against what the emitters really declare:
/// many models go through the real generator and every member of the generated code (nested types and their members
/// included) must be covered, so the list cannot fall behind when the emitters change.
/// </summary>
public class GeneratedNamesTests
{
    /// <summary>Models that reach every emitter path: image and flat inputs, both paddings, strided and planar
    /// convolutions, unrolled and looped windows, both poolings, softmax and plain outputs; plus random stacks.</summary>
    private static IEnumerable<string> Models()
    {
        yield return File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "LeNet5", "LeNet5.cs"));
        yield return """
            using ModelGen;
            [Sequential(20, 18, 3)]
            [Conv2D(4, 9, Stride = 2, Activation = Activation.Relu)]
            [AvgPool2D(2)]
            [Conv2D(3, 2, Padding = Padding.Same, Stride = 3, Activation = Activation.Sigmoid)]
            [MaxPool2D(1)]
            [Flatten]
            [Dense(5)]
            public partial class Strided;
            """;
        yield return """
            using ModelGen;
            [Sequential(12, 12, 2)]
            [MaxPool2D(5, Stride = 1)]
            [AvgPool2D(5, Stride = 2)]
            [Flatten]
            [Dense(3, Activation = Activation.Softmax)]
            public partial class BigWindows;
            """;
        yield return """
            using ModelGen;
            [Sequential(30)]
            [Dense(8, Activation = Activation.Tanh)]
            [Flatten]
            [Dense(4, Activation = Activation.Softmax)]
            public partial class Mlp;
            """;

        yield return """
            using ModelGen;
            [Sequential(10, 10, 2)]
            [BatchNormalization(Momentum = 0.9)]
            [Conv2D(4, 3, Activation = Activation.Relu)]
            [BatchNormalization]
            [Dropout(0.25)]
            [GlobalAveragePooling2D]
            [Dense(6)]
            [BatchNormalization]
            [Dropout(0.5)]
            [Dense(3, Activation = Activation.Softmax)]
            public partial class Modes;
            """;

        var random = new Random(20261201);
        for (var i = 0; i < 200; i++) yield return RandomStackTests.RandomModel(random, $"Net{i}");
    }

    [Fact]
    public void EveryNameTheGeneratedCodeDeclares_IsReserved()
    {
        var direct = new SortedSet<string>(StringComparer.Ordinal);
        var nested = new SortedSet<string>(StringComparer.Ordinal);
        var generatedModels = 0;
        foreach (var source in Models())
        {
            var run = GeneratorHarness.RunWithGpu(source); // every emitter, the GPU's included
            if (run.Errors.Any()) continue;
            var generatedTrees = run.Output.SyntaxTrees.Where(t => !run.Input.SyntaxTrees.Contains(t)).ToHashSet();
            Assert.NotEmpty(generatedTrees);
            foreach (var model in ModelTypes(run.Output))
            {
                generatedModels++;
                Collect(model, generatedTrees, direct, nested);
            }
        }

        Assert.True(generatedModels > 50, $"only {generatedModels} models generated");
        Assert.Contains("ParameterCount", direct);
        Assert.Contains("CpuPasses", direct);
        Assert.Contains("Conv2D_1_Kernel", direct);
        Assert.Contains("Backward", nested);
        Assert.Contains("conv2d_1_grad_out", nested);
        Assert.Contains("GpuKernels", direct);
        Assert.Contains("CreateGpuKernels", direct);
        Assert.Contains("ParameterGradient", nested);
        Assert.Contains("Conv2D_1_Gpu", nested);
        Assert.Contains("BatchNormalization_1_MovingVariance", direct);
        Assert.Contains("batch_normalization_1_stats", nested);
        Assert.Contains("UpdateStatistics", nested);

        var missing = direct.Where(n => !GeneratedNames.IsMemberName(n))
            .Concat(nested.Where(n => !GeneratedNames.IsReservedForModelName(n)))
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0,
            "The generated code declares names that GeneratedNames (generator/ModelGen.Generator/Parsing/GeneratedNames.cs) does not reserve: "
            + string.Join(", ", missing));
    }

    /// <summary>Every model class of the compilation: the classes that implement INetwork.</summary>
    private static IEnumerable<INamedTypeSymbol> ModelTypes(Compilation compilation)
    {
        var network = compilation.GetTypeByMetadataName("ModelGen.INetwork")!;
        var stack = new Stack<INamespaceOrTypeSymbol>([compilation.Assembly.GlobalNamespace]);
        while (stack.Count > 0)
        {
            foreach (var member in stack.Pop().GetMembers())
            {
                if (member is INamespaceSymbol ns) stack.Push(ns);
                else if (member is INamedTypeSymbol type && type.AllInterfaces.Contains(network, SymbolEqualityComparer.Default)) yield return type;
            }
        }
    }

    /// <summary>Names of the members declared in generated trees: the type's own in <paramref name="direct"/>, those
    /// inside its generated nested types (at any depth) in <paramref name="nested"/>.</summary>
    private static void Collect(INamedTypeSymbol type, HashSet<SyntaxTree> generatedTrees, ISet<string> direct, ISet<string> nested, int depth = 0)
    {
        foreach (var member in type.GetMembers())
        {
            if (member.IsImplicitlyDeclared || !member.DeclaringSyntaxReferences.Any(r => generatedTrees.Contains(r.SyntaxTree))) continue;
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor }) continue;

            // An explicit interface implementation is named "ModelGen.INetwork.Description": its own name is the last part.
            var name = member.Name[(member.Name.LastIndexOf('.') + 1)..];
            (depth == 0 ? direct : nested).Add(name);
            if (member is INamedTypeSymbol nestedType) Collect(nestedType, generatedTrees, direct, nested, depth + 1);
        }
    }
}

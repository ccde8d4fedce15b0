using System.ComponentModel;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.CompilerServices;
using ModelGen.Generator.Emit;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The contract between generated code and the runtime: generated code reaches the runtime only through
/// ModelGen.CompilerServices (hidden from IntelliSense), the two sides agree on its version, a mismatch is a clear error,
/// and the generated <c>Fit</c> mirrors <see cref="FitOptions"/>.
/// </summary>
public class ContractTests
{
    // The public description records generated code builds for ModelDescription (data, no behaviour). Anything else of
    // the runtime that generated code touches must live in a CompilerServices namespace (ModelGen's or ModelGen.Gpu's).
    private static readonly string[] DescriptionRecords = ["ModelGen.LayerDescription", "ModelGen.ParameterView"];

    // The user surface's enums, whose values the layer table records (a layer's padding and activation).
    private static readonly string[] SurfaceEnums = ["ModelGen.Padding", "ModelGen.Activation"];

    /// <summary>Every layer kind, padding, stride and activation, so every emitter path is walked.</summary>
    private const string EveryLayerKind = """
        using ModelGen;
        namespace Contract;
        [Sequential(20, 20, 2)]
        [Conv2D(4, 3, Activation = Activation.Relu)]
        [AvgPool2D(2)]
        [Conv2D(5, 3, Stride = 2, Padding = Padding.Valid, Activation = Activation.Sigmoid)]
        [MaxPool2D(2, Stride = 1)]
        [Flatten]
        [Dense(7)]
        [Dense(3, Activation = Activation.Softmax)]
        public partial class EveryKind { }
        """;

    private static string LeNet5 => File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "LeNet5", "LeNet5.cs"));

    [Fact]
    public void GeneratedCode_ReachesTheRuntimeOnlyThroughCompilerServices()
    {
        // With ModelGen.Gpu referenced, so the GPU kernels are walked too; each runtime assembly has its own contract namespace.
        var run = GeneratorHarness.RunWithGpu(LeNet5, EveryLayerKind);
        Assert.Empty(run.Errors);
        var runtimes = new[] { "ModelGen.SequentialAttribute", "ModelGen.Gpu.GpuSession" }
            .Select(name => run.Output.GetTypeByMetadataName(name)!.ContainingAssembly)
            .ToList();

        var outside = new SortedSet<string>(StringComparer.Ordinal);
        var contractTypes = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        var generatedTrees = run.Output.SyntaxTrees.Except(run.Input.SyntaxTrees).ToList();
        Assert.NotEmpty(generatedTrees);
        foreach (var tree in generatedTrees)
        {
            var semantics = run.Output.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes().OfType<ExpressionSyntax>())
            {
                if (node is not (SimpleNameSyntax or ObjectCreationExpressionSyntax or InvocationExpressionSyntax)) continue;
                if (semantics.GetSymbolInfo(node).Symbol is not { } symbol) continue;
                if (symbol is not (IMethodSymbol or IPropertySymbol or IFieldSymbol)) continue;
                var runtime = runtimes.FirstOrDefault(r => SymbolEqualityComparer.Default.Equals(symbol.ContainingAssembly, r));
                if (runtime is null) continue;

                var type = symbol.ContainingType;
                var typeName = type.ToDisplayString();
                if (symbol is IMethodSymbol { MethodKind: MethodKind.Constructor } or IPropertySymbol && DescriptionRecords.Contains(typeName)) continue;
                if (symbol is IFieldSymbol { IsConst: true } && SurfaceEnums.Contains(typeName)) continue;
                if (type.ContainingNamespace.ToDisplayString() == runtime.Name + ".CompilerServices")
                {
                    contractTypes.Add(type.OriginalDefinition);
                    continue;
                }

                outside.Add($"{typeName}.{symbol.Name} (in {tree.FilePath})");
            }
        }

        Assert.True(outside.Count == 0, "generated code uses runtime members outside the CompilerServices namespaces:\n" + string.Join("\n", outside));

        // The walk saw the contract's main doors, so it would have seen a call outside it too.
        var seen = contractTypes.Select(t => t.Name).ToHashSet();
        Assert.Contains("GeneratedModel", seen);
        Assert.Contains("Convolution", seen);
        Assert.Contains("Pooling", seen);
        Assert.Contains("GpuBatch", seen);

        // Every contract type is hidden from IntelliSense.
        foreach (var type in contractTypes)
        {
            var hidden = type.GetAttributes().Any(a =>
                a.AttributeClass?.ToDisplayString() == typeof(EditorBrowsableAttribute).FullName
                && a.ConstructorArguments is [{ Value: int state }] && state == (int)EditorBrowsableState.Never);
            Assert.True(hidden, $"{type.ToDisplayString()} is used by generated code but not [EditorBrowsable(Never)]");
        }
    }

    [Fact]
    public void EveryPublicCompilerServicesType_IsHiddenFromIntelliSense()
    {
        var types = new[] { typeof(GeneratedModel).Assembly, typeof(ModelGen.Gpu.GpuSession).Assembly }
            .SelectMany(a => a.GetExportedTypes().Where(t => t.Namespace == a.GetName().Name + ".CompilerServices" && !t.IsNested))
            .ToList();
        Assert.Contains(types, t => t.Assembly == typeof(ModelGen.Gpu.GpuSession).Assembly);
        Assert.NotEmpty(types);
        foreach (var type in types)
        {
            var attribute = type.GetCustomAttribute<EditorBrowsableAttribute>();
            Assert.True(attribute?.State == EditorBrowsableState.Never, $"{type.FullName} is not [EditorBrowsable(Never)]");
        }
    }

    [Fact]
    public void GeneratorAndRuntime_AgreeOnTheContractVersion()
    {
        Assert.Equal(GeneratedModel.ContractVersion, GeneratedCode.ContractVersion);
        var model = GeneratorHarness.Run(LeNet5).Source("LeNet5.Model.g.cs");
        Assert.Contains($"contractVersion: {GeneratedCode.ContractVersion},", model, StringComparison.Ordinal);
    }

    [Fact]
    public void CodeGeneratedForAnotherContract_FailsWithAClearError()
    {
        // What a project mixing two ModelGen versions compiles: generated code that says another contract version.
        var run = GeneratorHarness.Run(LeNet5);
        var generated = run.Sources.Select(s => s.SourceText.ToString()).ToList();
        var marker = $"contractVersion: {GeneratedCode.ContractVersion},";
        Assert.Single(generated, g => g.Contains(marker, StringComparison.Ordinal));
        var foreign = generated.Select(g => g.Replace(marker, "contractVersion: 999,", StringComparison.Ordinal)).ToArray();

        var compilation = GeneratorHarness.Compilation([LeNet5, .. foreign]);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var type = GeneratorHarness.Load(compilation).GetTypes().Single(t => t.Name == "LeNet5");
        var model = Activator.CreateInstance(type, (int?)1)!;
        var predict = type.GetMethod("Predict", [typeof(ReadOnlySpan<float>)])!;

        var modelGenError = Assert.Throws<ModelGenException>(() => InvokePredict(predict, model));
        Assert.Contains("contract 999", modelGenError.Message, StringComparison.Ordinal);
        Assert.Contains($"implements contract {GeneratedModel.ContractVersion}", modelGenError.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', modelGenError.Message);
    }

    [Fact]
    public void GeneratedFit_HasFitOptionsPropertiesAsParameters_InOrderWithTheSameDefaults()
    {
        var assembly = GeneratorHarness.Run(LeNet5).Load();
        var fit = assembly.GetTypes().Single(t => t.Name == "LeNet5").GetMethod("Fit")!;
        var parameters = fit.GetParameters();
        Assert.Equal("train", parameters[0].Name);
        Assert.Equal(typeof(Dataset), parameters[0].ParameterType);

        var defaults = new FitOptions();
        var properties = typeof(FitOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken).ToList();
        Assert.Equal(
            properties.Select(p => (char.ToLowerInvariant(p.Name[0]) + p.Name[1..], p.PropertyType)),
            parameters.Skip(1).Select(p => (p.Name!, p.ParameterType)));
        foreach (var (property, parameter) in properties.Zip(parameters.Skip(1)))
        {
            Assert.True(parameter.HasDefaultValue, $"Fit's {parameter.Name} has no default");
            var expected = property.GetValue(defaults);
            var actual = parameter.DefaultValue ?? (parameter.ParameterType.IsValueType && Nullable.GetUnderlyingType(parameter.ParameterType) is null
                ? Activator.CreateInstance(parameter.ParameterType)
                : null);
            Assert.Equal(expected, actual);
        }
    }

    private static float[] InvokePredict(MethodInfo predict, object model)
    {
        // ReadOnlySpan<float> cannot be boxed; call through a delegate of the exact signature.
        var call = predict.CreateDelegate<Func<ReadOnlySpan<float>, float[]>>(model);
        return call(new float[28 * 28]);
    }

    [Fact]
    public void GeneratorEnums_MirrorTheRuntimesByNameAndValue()
    {
        // The generator cannot reference the runtime, so it reads Padding and Activation arguments as their numbers.
        AssertMirrors<ModelGen.Generator.Model.PaddingKind, Padding>();
        AssertMirrors<ModelGen.Generator.Model.ActivationKind, Activation>();

        static void AssertMirrors<TGenerator, TRuntime>() where TGenerator : struct, Enum where TRuntime : struct, Enum
        {
            var generator = Enum.GetValues<TGenerator>().ToDictionary(v => v.ToString(), v => Convert.ToInt32(v));
            var runtime = Enum.GetValues<TRuntime>().ToDictionary(v => v.ToString(), v => Convert.ToInt32(v));
            Assert.Equal(runtime.OrderBy(p => p.Key), generator.OrderBy(p => p.Key));
        }
    }

    [Fact]
    public void ParsedAttributeNames_AreTheRuntimesAttributes()
    {
        var runtime = typeof(SequentialAttribute).Assembly;
        Assert.Equal(ModelGen.Generator.Parsing.ModelParser.SequentialAttribute, typeof(SequentialAttribute).FullName);

        // Every layer attribute the parser knows exists, and every layer attribute the runtime declares is known.
        var layers = runtime.GetExportedTypes()
            .Where(t => typeof(LayerAttribute).IsAssignableFrom(t) && !t.IsAbstract)
            .Select(t => t.FullName!)
            .OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(layers, ModelGen.Generator.Parsing.ModelParser.LayerAttributes.OrderBy(n => n, StringComparer.Ordinal));
    }
}

using Microsoft.CodeAnalysis;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Declarations that are legal C# but used to break the generated code: each now gives an MG error (and generates
/// nothing), or compiles and runs. Never a CS error inside generated code, never a generator exception.
/// </summary>
public class HostileDeclarationTests
{
    private const string Layers = "using ModelGen;\n[Sequential(6, 6, 1)]\n[Conv2D(2, 3)]\n[MaxPool2D(2)]\n[Flatten]\n[Dense(3, Activation = Activation.Softmax)]\n";

    private static void AssertNoErrorInGeneratedCode(GeneratorRun run)
    {
        Assert.Null(run.GeneratorException);
        Assert.DoesNotContain(run.AllDiagnostics, d => d.Id is "CS8785" or "AD0001");
        var generated = run.Output.SyntaxTrees.Where(t => !run.Input.SyntaxTrees.Contains(t)).ToHashSet();
        Assert.DoesNotContain(run.Errors, d => d.Location.SourceTree is { } tree && generated.Contains(tree));
    }

    public static TheoryData<string> EveryReservedModelName() =>
        [.. GeneratedNames.MemberNames.Concat(GeneratedNames.NestedMemberNames).Concat(["Dense_4_Forward", "Conv2D_1_Shape", "MaxPool2D_2_ForwardKernel"]).Distinct().Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(EveryReservedModelName))]
    public void ModelNamedLikeAGeneratedMember_IsMG0008OnItsName(string name)
    {
        var run = GeneratorHarness.Run(Layers + $"public partial class {name};\n");
        AssertNoErrorInGeneratedCode(run);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MG0008", error.Id);
        Assert.Contains($"'{name}'", error.GetMessage());
        Assert.Equal(name, error.Location.SourceTree!.GetText().ToString(error.Location.SourceSpan));
        Assert.Empty(run.Sources);
    }

    [Theory]
    [InlineData("public const int ParameterCount = 5;", "ParameterCount")]
    [InlineData("public int InputLength => 3;", "InputLength")]
    [InlineData("public string History = \"\";", "History")]
    [InlineData("public void Predict(float[] input, float[] output) { }", "Predict")]
    [InlineData("private static void Backward() { }", "Backward")]
    [InlineData("private sealed class GpuKernels { }", "GpuKernels")]
    [InlineData("public event System.Action? Optimizer;", "Optimizer")]
    [InlineData("public System.Span<float> Dense_4_Kernel => default;", "Dense_4_Kernel")]
    [InlineData("public float[] get_Parameters() => [];", "get_Parameters")]
    public void UserMemberNamedLikeAGeneratedMember_IsMG0010OnThatMember(string member, string name)
    {
        var run = GeneratorHarness.Run(Layers + "public partial class Model\n{\n    " + member + "\n}\n");
        AssertNoErrorInGeneratedCode(run);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MG0010", error.Id);
        Assert.Equal($"Model 'Model' declares '{name}', a name ModelGen generates in every model; rename your '{name}'", error.GetMessage());
        Assert.Equal(name, error.Location.SourceTree!.GetText().ToString(error.Location.SourceSpan));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void UserMemberOnAnotherPartialDeclaration_IsFoundThere()
    {
        var run = GeneratorHarness.Run(Layers + "public partial class Model;\n", "public partial class Model { public int Summary; }\n");
        AssertNoErrorInGeneratedCode(run);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MG0010", error.Id);
        Assert.Equal("Model1.cs", error.Location.GetLineSpan().Path);
    }

    [Fact]
    public void UserMembersWithOtherNames_CompileAndRun()
    {
        // Names used only inside generated nested types (Channels, Stride) do not clash with members of the model.
        var run = GeneratorHarness.Run(Layers + """
            public partial class Model
            {
                public int Channels => 1;
                public static int Stride = 2;
                public int Twice(int x) => 2 * x;
            }
            """);
        Assert.Empty(run.Errors);
        var type = run.Load().GetType("Model")!;
        var network = (ModelGen.CompilerServices.IGeneratedNetwork)Activator.CreateInstance(type, [(int?)1])!;
        var output = ModelGen.CompilerServices.GeneratedModel.Predict(network, new float[36]);
        Assert.Equal(1f, output.Sum(), 5);
    }

    [Theory]
    [InlineData("partial record")]
    [InlineData("partial record class")]
    public void PartialRecord_IsMG0009(string keywords)
    {
        var run = GeneratorHarness.Run(Layers + $"public {keywords} Model;\n");
        AssertNoErrorInGeneratedCode(run);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MG0009", error.Id);
        Assert.Equal("Model 'Model' is declared as a record; ModelGen generates networks into classes only: declare it as 'partial class Model'", error.GetMessage());
        Assert.Equal("Model", error.Location.SourceTree!.GetText().ToString(error.Location.SourceSpan));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void SequentialOnTwoPartialDeclarations_LeavesOnlyTheCompilersError()
    {
        var run = GeneratorHarness.Run(Layers + "public partial class Model;\n", "using ModelGen;\n[Sequential(4)]\npublic partial class Model;\n");
        AssertNoErrorInGeneratedCode(run);
        Assert.Contains(run.Errors, d => d.Id == "CS0579");
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void VeryLongNamespaceAndClassName_GetShortDistinctHintNames()
    {
        var ns = string.Join(".", Enumerable.Range(0, 12).Select(i => $"Organisation{i}Department{i}"));
        var longClass = "Model" + new string('X', 120);
        var run = GeneratorHarness.Run(
            Layers.Replace("using ModelGen;\n", "using ModelGen;\nnamespace " + ns + ";\n") + $"public partial class {longClass};\n",
            Layers.Replace("using ModelGen;\n", "using ModelGen;\nnamespace " + ns + ".Other;\n") + $"public partial class {longClass};\n",
            Layers + "public partial class Short;\n");
        Assert.Empty(run.Errors);
        Assert.True(ns.Length + longClass.Length > 244);
        var hints = run.Sources.Select(s => s.HintName).ToList();
        var parts = hints.Count / 3; // the same files for each of the three models
        Assert.Equal(hints.Count, hints.Distinct().Count());
        Assert.All(hints, h => Assert.InRange(h.Length, 1, 80));
        Assert.Contains("Short.Model.g.cs", hints);
        Assert.Equal(2 * parts, hints.Count(h => h.StartsWith("ModelXXXX", StringComparison.Ordinal)));
    }
}

using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Tests;

/// <summary>
/// One test per MG diagnostic: the real compiler runs the generator over a small model with the mistake, and the test
/// asserts the ID, the severity and the exact place ([|…|] in the source) of the diagnostic.
/// </summary>
public class DiagnosticTests
{
    private const string Usings = "using ModelGen;\n";

    private static Diagnostic AssertSingle(string id, string marked, DiagnosticSeverity severity = DiagnosticSeverity.Error)
    {
        var markup = Markup.Parse(Usings + marked);
        var run = GeneratorHarness.Run(markup.Source);
        Assert.Null(run.GeneratorException);

        // Only the analyzer reports: a build shows each MG diagnostic once.
        Assert.Empty(run.GeneratorDiagnostics);
        var found = run.AllDiagnostics.Where(d => d.Id.StartsWith("MG", StringComparison.Ordinal)).ToList();
        var diagnostic = Assert.Single(found);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal("Model0.cs", span.Path);

        // A location in the user's syntax tree (not a rebuilt external one), so #pragma and .editorconfig apply.
        Assert.Same(run.Output.SyntaxTrees.First(), diagnostic.Location.SourceTree);
        Assert.Equal((markup.Line, markup.Column), (span.StartLinePosition.Line, span.StartLinePosition.Character));
        Assert.Equal(markup.Length, diagnostic.Location.SourceSpan.Length);
        Assert.StartsWith("https://", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.EndsWith("#" + id.ToLowerInvariant(), diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);

        // No compiler error may come from generated code: with an MG error the generator emits at most the stub surface.
        Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        return diagnostic;
    }

    [Fact]
    public void MG0001_ModelNotPartial()
    {
        var d = AssertSingle("MG0001", "[Sequential(4)]\n[Dense(2)]\npublic class [|Model|] { }\n");
        Assert.Contains("'partial'", d.GetMessage());
    }

    [Fact]
    public void MG0002_ModelGeneric() =>
        AssertSingle("MG0002", "[Sequential(4)]\n[Dense(2)]\npublic partial class [|Model|]<T> { }\n");

    [Fact]
    public void MG0003_ModelNested()
    {
        var d = AssertSingle("MG0003", "public partial class Outer\n{\n    [Sequential(4)]\n    [Dense(2)]\n    public partial class [|Model|] { }\n}\n");
        Assert.Contains("'Outer'", d.GetMessage());
    }

    [Theory]
    [InlineData("static")]
    [InlineData("abstract")]
    public void MG0004_ModelWrongKind(string modifier)
    {
        var d = AssertSingle("MG0004", $"[Sequential(4)]\n[Dense(2)]\npublic {modifier} partial class [|Model|] {{ }}\n");
        Assert.Contains($"'{modifier}'", d.GetMessage());
    }

    [Fact]
    public void MG0005_LayerWithoutSequential()
    {
        var d = AssertSingle("MG0005", "[[|Dense(2)|]]\npublic partial class Model { }\n");
        Assert.Contains("[Dense]", d.GetMessage());
    }

    [Fact]
    public void MG0006_LayersSplitAcrossDeclarations() =>
        AssertSingle("MG0006", "[Sequential(4)]\n[Dense(3)]\npublic partial class Model { }\n\n[[|Dense(2)|]]\npublic partial class Model { }\n");

    [Fact]
    public void MG0007_ModelWithoutLayers() =>
        AssertSingle("MG0007", "[Sequential(4)]\npublic partial class [|Model|] { }\n");

    [Fact]
    public void MG0008_ModelNameCollides() =>
        AssertSingle("MG0008", "[Sequential(4)]\n[Dense(2)]\npublic partial class [|Summary|] { }\n");

    [Fact]
    public void MG0101_InputDimensionNotPositive()
    {
        var d = AssertSingle("MG0101", "[Sequential(28, [|0|], 1)]\n[Flatten]\n[Dense(2)]\npublic partial class Model;\n");
        Assert.Contains("width", d.GetMessage());
    }

    [Fact]
    public void MG0102_LayerArgumentNotPositive_Filters()
    {
        var d = AssertSingle("MG0102", "[Sequential(8, 8, 1)]\n[Conv2D([|0|], 3)]\npublic partial class Model;\n");
        Assert.Contains("Conv2D #1: filters is 0", d.GetMessage());
    }

    [Fact]
    public void MG0102_LayerArgumentNotPositive_PoolStride() =>
        AssertSingle("MG0102", "[Sequential(8, 8, 1)]\n[MaxPool2D(2, Stride = [|0|])]\npublic partial class Model;\n");

    [Fact]
    public void MG0103_InvalidEnumValue()
    {
        var d = AssertSingle("MG0103", "[Sequential(8, 8, 1)]\n[Conv2D(2, 3, Padding = [|(Padding)7|])]\npublic partial class Model;\n");
        Assert.Contains("Padding.Valid, Padding.Same", d.GetMessage());
    }

    [Fact]
    public void MG0104_MalformedInputShape() =>
        AssertSingle("MG0104", "[Sequential(4)]\n[Dense(2, InputShape = [|new[] { 2, 2 }|])]\npublic partial class Model;\n");

    /// <summary>The Keras tutorial's own mistake: input_shape=(14,14,1) on the second convolution, which receives 14x14x6.</summary>
    [Fact]
    public void MG0105_InputShapeMismatch_TheTutorialsMistake()
    {
        var d = AssertSingle("MG0105", """
            [Sequential(28, 28, 1)]
            [Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
            [MaxPool2D(2)]
            [Conv2D(16, 5, Padding = Padding.Same, Activation = Activation.Tanh, InputShape = [|new[] { 14, 14, 1 }|])]
            [MaxPool2D(2)]
            [Flatten]
            [Dense(120, Activation = Activation.Tanh)]
            [Dense(84, Activation = Activation.Tanh)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class LeNet5;
            """);
        Assert.Equal(
            "Conv2D #3 declares InputShape 14x14x1 but receives 14x14x6 from MaxPool2D #2; set InputShape = new[] { 14, 14, 6 } or remove it",
            d.GetMessage());
    }

    [Fact]
    public void MG0106_DenseNeedsFlatInput()
    {
        var d = AssertSingle("MG0106", """
            [Sequential(28, 28, 1)]
            [Conv2D(6, 5, Activation = Activation.Tanh)]
            [MaxPool2D(2)]
            [Conv2D(16, 5, Activation = Activation.Tanh)]
            [MaxPool2D(2)]
            [[|Dense(120, Activation = Activation.Tanh)|]]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class LeNet5;
            """);
        Assert.Equal("Dense(120) (Dense #5) needs a 1-D input but receives 4x4x16 from MaxPool2D #4; insert [Flatten] before it", d.GetMessage());
    }

    [Fact]
    public void MG0107_SpatialLayerNeedsImage()
    {
        var d = AssertSingle("MG0107", "[Sequential(8, 8, 1)]\n[Flatten]\n[[|Conv2D(4, 3)|]]\npublic partial class Model;\n");
        Assert.Contains("receives the 1-D shape 64 from Flatten #1", d.GetMessage());
    }

    [Fact]
    public void MG0108_WindowLargerThanInput()
    {
        var d = AssertSingle("MG0108", "[Sequential(5, 5, 1)]\n[Conv2D(4, [|7|])]\npublic partial class Model;\n");
        Assert.Contains("Padding = Padding.Same", d.GetMessage());
    }

    [Fact]
    public void MG0108_PoolLargerThanInput() =>
        AssertSingle("MG0108", "[Sequential(6, 6, 2)]\n[MaxPool2D(2)]\n[AvgPool2D([|4|])]\npublic partial class Model;\n");

    [Fact]
    public void MG0109_SoftmaxNotLast() =>
        AssertSingle("MG0109", "[Sequential(4)]\n[Dense(8, Activation = [|Activation.Softmax|])]\n[Dense(2)]\npublic partial class Model;\n");

    [Fact]
    public void MG0110_NetworkTooLarge()
    {
        var d = AssertSingle("MG0110", "[Sequential(100000)]\n[[|Dense(100000)|]]\npublic partial class Model;\n");
        Assert.Contains("10,000,100,000 parameters", d.GetMessage());
    }

    [Fact]
    public void MG0111_FlattenOnFlatInput_IsAWarningAndStillGenerates()
    {
        AssertSingle("MG0111", "[Sequential(4)]\n[[|Flatten|]]\n[Dense(2)]\npublic partial class Model;\n", DiagnosticSeverity.Warning);
        var run = GeneratorHarness.Run(Usings + "[Sequential(4)]\n[Flatten]\n[Dense(2)]\npublic partial class Model;\n");
        Assert.Empty(run.Errors);
        Assert.Contains(run.Sources, s => s.HintName == "Model.Model.g.cs");
    }

    [Fact]
    public void MG0112_NormalizationMomentumOutOfRange()
    {
        var d = AssertSingle("MG0112", "[Sequential(4)]\n[Dense(3)]\n[BatchNormalization(Momentum = [|1.5|])]\npublic partial class Model;\n");
        Assert.Equal(
            "BatchNormalization #2: Momentum is 1.5; use a value from 0 to 1 (Keras's default is 0.99): moving = moving * Momentum + batch * (1 - Momentum)",
            d.GetMessage());
    }

    [Fact]
    public void MG0112_NormalizationEpsilonNotPositive()
    {
        var d = AssertSingle("MG0112", "[Sequential(6, 6, 1)]\n[BatchNormalization(Momentum = 0.9, Epsilon = [|0|])]\n[Flatten]\n[Dense(2)]\npublic partial class Model;\n");
        Assert.StartsWith("BatchNormalization #1: Epsilon is 0; use a positive value", d.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("-0.1")]
    [InlineData("double.NaN")]
    public void MG0113_DropoutRateOutOfRange(string rate)
    {
        var d = AssertSingle("MG0113", $"[Sequential(4)]\n[Dense(3)]\n[Dropout([|{rate}|])]\n[Dense(2)]\npublic partial class Model;\n");
        Assert.StartsWith("Dropout #2: rate is ", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void MG0113_DropoutRateByName() =>
        AssertSingle("MG0113", "[Sequential(4)]\n[Dropout(rate: [|1.25|])]\n[Dense(2)]\npublic partial class Model;\n");

    [Fact]
    public void MG0114_GlobalPoolingAfterFlatten()
    {
        var d = AssertSingle("MG0114", "[Sequential(8, 8, 3)]\n[Conv2D(4, 3)]\n[Flatten]\n[[|GlobalAveragePooling2D|]]\n[Dense(2)]\npublic partial class Model;\n");
        Assert.Equal(
            "GlobalAveragePooling2D #3 needs an image input (height x width x channels) but receives the 1-D shape 144 from Flatten #2; remove that [Flatten]: GlobalAveragePooling2D itself turns h x w x c into c",
            d.GetMessage());
    }

    [Fact]
    public void MG0114_GlobalPoolingOnAVector()
    {
        var d = AssertSingle("MG0114", "[Sequential(10)]\n[Dense(4)]\n[[|GlobalAveragePooling2D(InputShape = new[] { 4 })|]]\npublic partial class Model;\n");
        Assert.Contains("from Dense #1; move it before the layers that make the shape 1-D", d.GetMessage());
    }

    [Fact]
    public void MG0107_PoolingAfterGlobalPooling()
    {
        var d = AssertSingle("MG0107", "[Sequential(8, 8, 3)]\n[GlobalAveragePooling2D]\n[[|MaxPool2D(2)|]]\npublic partial class Model;\n");
        Assert.Contains("receives the 1-D shape 3 from GlobalAveragePooling2D #1", d.GetMessage());
    }

    [Fact]
    public void MG0109_SoftmaxBeforeDropout() =>
        AssertSingle("MG0109", "[Sequential(4)]\n[Dense(3, Activation = [|Activation.Softmax|])]\n[Dropout(0.5)]\npublic partial class Model;\n");

    [Fact]
    public void MG0105_InputShapeOnBatchNormalization()
    {
        var d = AssertSingle("MG0105", "[Sequential(6, 6, 2)]\n[Conv2D(3, 3)]\n[BatchNormalization(InputShape = [|new[] { 6, 6, 2 }|])]\npublic partial class Model;\n");
        Assert.Contains("receives 4x4x3 from Conv2D #1", d.GetMessage());
    }

    [Fact]
    public void EveryErrorIsReportedAtOnce()
    {
        var source = Usings + """
            [Sequential(28, 28, 1)]
            [Conv2D(0, 5)]
            [MaxPool2D(2, InputShape = new[] { 0 })]
            [Dense(8, Activation = Activation.Softmax)]
            [Dense(2)]
            public partial class Model;
            """;
        var ids = GeneratorHarness.Run(source).AllDiagnostics.Select(d => d.Id).Where(id => id.StartsWith("MG", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(["MG0102", "MG0104", "MG0109"], ids);
    }

    [Fact]
    public void EveryDescriptorHasADocumentedSection()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "diagnostics.md"));
        var unshipped = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "generator", "ModelGen.Generator", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in Diagnostics.Descriptors.All)
        {
            Assert.Contains($"## {descriptor.Id}", docs);
            Assert.Contains($"{descriptor.Id} | ModelGen | {descriptor.DefaultSeverity}", unshipped);
        }
    }
}

using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.CodeFixes.Tests;

/// <summary>MG0105 → "Set InputShape to the inferred shape", fed by the analyzer's InferredShape property.</summary>
public class SetInputShapeTests
{
    private const string Title = "Set InputShape to the inferred shape";

    private static Task<string> Fix(string source) =>
        CodeFixHarness.FixAsync(new SetInputShapeCodeFix(), "MG0105", Title, source);

    private const string TutorialMistake = """
        using ModelGen;

        [Sequential(28, 28, 1)]
        [Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
        [MaxPool2D(2)]
        [Conv2D(16, 5, Padding = Padding.Same, Activation = Activation.Tanh, InputShape = new[] { 14, 14, 1 })]
        [MaxPool2D(2)]
        [Flatten]
        [Dense(120, Activation = Activation.Tanh)]
        [Dense(84, Activation = Activation.Tanh)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5;
        """;

    [Fact]
    public async Task Analyzer_PassesTheInferredShapeInTheDiagnosticProperties()
    {
        var document = CodeFixHarness.CreateDocument(TutorialMistake);
        var diagnostic = Assert.Single(await CodeFixHarness.DiagnosticsAsync(document.Project));
        Assert.Equal("MG0105", diagnostic.Id);
        Assert.Equal("14,14,6", diagnostic.Properties["InferredShape"]);
        Assert.Equal("new[] { 14, 14, 1 }", (await document.GetTextAsync()).ToString(diagnostic.Location.SourceSpan));

        // On the document's own syntax tree, where the IDE looks for fixes (not a rebuilt location with the same path).
        Assert.Same(await document.GetSyntaxTreeAsync(), diagnostic.Location.SourceTree);
    }

    [Fact]
    public async Task TheTutorialsMistake_BecomesTheRealShape()
    {
        Assert.Equal(TutorialMistake.Replace("new[] { 14, 14, 1 }", "new[] { 14, 14, 6 }"), await Fix(TutorialMistake));
    }

    [Fact]
    public async Task CollectionExpression_StaysACollectionExpression()
    {
        var fixedSource = await Fix("""
            using ModelGen;

            [Sequential(8, 8, 1)]
            [MaxPool2D(2, InputShape = [8, 8, 3])]
            [Flatten]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Net;
            """);
        Assert.Contains("[MaxPool2D(2, InputShape = [8, 8, 1])]", fixedSource);
    }

    [Fact]
    public async Task ExplicitArrayAfterFlatten_KeepsItsElementTypeAndGetsTheFlatLength()
    {
        var fixedSource = await Fix("""
            using ModelGen;

            [Sequential(6, 6, 2)]
            [Conv2D(4, 3)]
            [Flatten]
            [Dense(2, Activation = Activation.Softmax, InputShape = new int[1] { 100 })]
            public partial class Net;
            """);
        Assert.Contains("[Dense(2, Activation = Activation.Softmax, InputShape = new int[] { 64 })]", fixedSource);
    }

    [Fact]
    public async Task WithoutTheProperty_NoFixIsOffered()
    {
        // A diagnostic from an older generator carries no inferred shape: guessing would be wrong, so nothing is offered.
        var document = CodeFixHarness.CreateDocument(TutorialMistake);
        var real = Assert.Single(await CodeFixHarness.DiagnosticsAsync(document.Project));
        var stripped = Diagnostic.Create(real.Descriptor, real.Location, ImmutableDictionary<string, string?>.Empty);
        Assert.Empty(await CodeFixHarness.ActionsAsync(new SetInputShapeCodeFix(), document, stripped));
        Assert.NotEmpty(await CodeFixHarness.ActionsAsync(new SetInputShapeCodeFix(), document, real));
    }
}

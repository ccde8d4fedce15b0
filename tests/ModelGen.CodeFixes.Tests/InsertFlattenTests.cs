namespace ModelGen.CodeFixes.Tests;

/// <summary>MG0106 → "Insert [Flatten]": the fixed model builds, and the user's attribute layout is kept.</summary>
public class InsertFlattenTests
{
    private static Task<string> Fix(string source) =>
        CodeFixHarness.FixAsync(new InsertFlattenCodeFix(), "MG0106", "Insert [Flatten]", source);

    [Fact]
    public async Task OwnLine_GetsAFlattenLineWithTheSameIndentation()
    {
        var fixedSource = await Fix("""
            using ModelGen;

            namespace Demo
            {
                [Sequential(28, 28, 1)]
                [Conv2D(6, 5, Activation = Activation.Tanh)]
                [MaxPool2D(2)]
                [Dense(120, Activation = Activation.Tanh)]
                [Dense(10, Activation = Activation.Softmax)]
                public partial class Net;
            }
            """);
        Assert.Equal("""
            using ModelGen;

            namespace Demo
            {
                [Sequential(28, 28, 1)]
                [Conv2D(6, 5, Activation = Activation.Tanh)]
                [MaxPool2D(2)]
                [Flatten]
                [Dense(120, Activation = Activation.Tanh)]
                [Dense(10, Activation = Activation.Softmax)]
                public partial class Net;
            }
            """, fixedSource);
    }

    [Fact]
    public async Task ListsOnOneLine_StaySeparateListsOnThatLine()
    {
        var fixedSource = await Fix("""
            using ModelGen;

            [Sequential(8, 8, 1)] [Conv2D(4, 3)] [Dense(2, Activation = Activation.Softmax)]
            public partial class Net;
            """);
        Assert.Equal("""
            using ModelGen;

            [Sequential(8, 8, 1)] [Conv2D(4, 3)] [Flatten] [Dense(2, Activation = Activation.Softmax)]
            public partial class Net;
            """, fixedSource);
    }

    [Fact]
    public async Task OneSharedList_GetsFlattenInsideThatList()
    {
        var fixedSource = await Fix("""
            using ModelGen;

            [Sequential(8, 8, 1), Conv2D(4, 3), Dense(2, Activation = Activation.Softmax)]
            public partial class Net;
            """);
        Assert.Equal("""
            using ModelGen;

            [Sequential(8, 8, 1), Conv2D(4, 3), Flatten, Dense(2, Activation = Activation.Softmax)]
            public partial class Net;
            """, fixedSource);
    }

    [Fact]
    public async Task QualifiedAndLongNames_AreWrittenTheSameWay()
    {
        var fixedSource = await Fix("""
            [ModelGen.Sequential(8, 8, 1)]
            [ModelGen.Conv2D(4, 3)]
            [global::ModelGen.DenseAttribute(2, Activation = ModelGen.Activation.Softmax)]
            public partial class Net;
            """);
        Assert.Equal("""
            [ModelGen.Sequential(8, 8, 1)]
            [ModelGen.Conv2D(4, 3)]
            [global::ModelGen.FlattenAttribute]
            [global::ModelGen.DenseAttribute(2, Activation = ModelGen.Activation.Softmax)]
            public partial class Net;
            """, fixedSource);
    }

    [Fact]
    public async Task CommentAndCrLf_AreKept()
    {
        var source = string.Join("\r\n",
            "using ModelGen;",
            "",
            "[Sequential(8, 8, 1)]",
            "[Conv2D(4, 3)]",
            "\t// the classifier",
            "\t[Dense(2, Activation = Activation.Softmax)]",
            "public partial class Net;");
        var expected = string.Join("\r\n",
            "using ModelGen;",
            "",
            "[Sequential(8, 8, 1)]",
            "[Conv2D(4, 3)]",
            "\t// the classifier",
            "\t[Flatten]",
            "\t[Dense(2, Activation = Activation.Softmax)]",
            "public partial class Net;");
        Assert.Equal(expected, await Fix(source));
    }

    [Fact]
    public async Task OnlyTheFirstDenseIsReported_SoOneFlattenFixesTheModel()
    {
        // The generator continues as if flattened, so the second Dense is not reported and one fix suffices.
        var fixedSource = await Fix("""
            using ModelGen;

            [Sequential(8, 8, 2)]
            [Dense(16, Activation = Activation.Relu)]
            [Dense(3, Activation = Activation.Softmax)]
            public partial class Net;
            """);
        Assert.Equal("""
            using ModelGen;

            [Sequential(8, 8, 2)]
            [Flatten]
            [Dense(16, Activation = Activation.Relu)]
            [Dense(3, Activation = Activation.Softmax)]
            public partial class Net;
            """, fixedSource);
    }
}

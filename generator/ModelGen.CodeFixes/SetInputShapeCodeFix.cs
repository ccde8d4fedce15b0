using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.CodeFixes;

/// <summary>
/// MG0105 (InputShape differs from the inferred shape): replaces the InputShape expression with the shape the layer
/// really receives, which the analyzer (ModelAnalyzer) passes in the diagnostic's <c>InferredShape</c> property ("14,14,6"). The
/// written form is kept: <c>new[] { … }</c>, <c>new int[] { … }</c> or a collection expression <c>[…]</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SetInputShapeCodeFix)), Shared]
public sealed class SetInputShapeCodeFix : CodeFixProvider
{
    /// <summary>The diagnostic this fix repairs: InputShape differs from the inferred shape.</summary>
    public const string DiagnosticId = "MG0105";

    /// <summary>The diagnostic property holding the inferred shape (DiagnosticPropertyKeys.InferredShape in the generator assembly).</summary>
    public const string InferredShapeProperty = "InferredShape";

    /// <summary>Title of the code action (also its equivalence key).</summary>
    public const string Title = "Set InputShape to the inferred shape";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(InferredShapeProperty, out var shape) || !IsShape(shape)) continue;
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax expression) continue;
            var span = expression.Span;
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => ReplaceAsync(context.Document, span, shape!, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static async Task<Document> ReplaceAsync(Document document, TextSpan span, string shape, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        if (root?.FindNode(span, getInnermostNodeForTie: true) is not ExpressionSyntax expression) return document;
        var elements = string.Join(", ", shape.Split(','));
        var replacement = expression switch
        {
            // The element type stays as written; a rank size (new int[3] { … }) would no longer match, so it goes.
            ArrayCreationExpressionSyntax array => "new " + array.Type.ElementType + "[] { " + elements + " }",
            _ when expression.GetType().Name == "CollectionExpressionSyntax" => "[" + elements + "]",
            _ => "new[] { " + elements + " }",
        };
        return document.WithText(text.WithChanges(new TextChange(expression.Span, replacement)));
    }

    private static bool IsShape(string? value) =>
        !string.IsNullOrEmpty(value) && value!.Split(',').All(part => part.Length > 0 && part.All(char.IsDigit));
}

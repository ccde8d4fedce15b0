using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.CodeFixes;

/// <summary>
/// MG0106 (Dense on an image input): inserts <c>[Flatten]</c> before the Dense attribute. The edit is textual so the
/// user's layout survives: an attribute list on its own line gets a <c>[Flatten]</c> line above it, lists on one line
/// stay on one line, and a Dense inside a shared list (<c>[MaxPool2D(2), Dense(10)]</c>) gets <c>Flatten, </c> in that list.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InsertFlattenCodeFix)), Shared]
public sealed class InsertFlattenCodeFix : CodeFixProvider
{
    /// <summary>The diagnostic this fix repairs: Dense needs a 1-D input.</summary>
    public const string DiagnosticId = "MG0106";

    /// <summary>Title of the code action (also its equivalence key).</summary>
    public const string Title = "Insert [Flatten]";

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
            var attribute = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
            if (attribute?.Parent is not AttributeListSyntax) continue;
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => InsertFlattenAsync(context.Document, attribute.Span, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static async Task<Document> InsertFlattenAsync(Document document, TextSpan attributeSpan, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        if (root?.FindNode(attributeSpan).FirstAncestorOrSelf<AttributeSyntax>() is not { Parent: AttributeListSyntax list } attribute)
        {
            return document;
        }

        var flatten = FlattenName(attribute.Name);
        TextChange change;
        if (list.Attributes.Count > 1)
        {
            // One list holds several layers: keep it one list.
            change = new TextChange(new TextSpan(attribute.SpanStart, 0), flatten + ", ");
        }
        else if (StartsLine(text, list.SpanStart, out var indentation))
        {
            change = new TextChange(new TextSpan(list.SpanStart, 0), "[" + flatten + "]" + NewLine(root) + indentation);
        }
        else
        {
            change = new TextChange(new TextSpan(list.SpanStart, 0), "[" + flatten + "] ");
        }

        return document.WithText(text.WithChanges(change));
    }

    /// <summary>Flatten written the way the user wrote Dense: <c>Dense</c>, <c>DenseAttribute</c>, <c>ModelGen.Dense</c>, <c>global::ModelGen.Dense</c>.</summary>
    private static string FlattenName(NameSyntax name)
    {
        var written = name.ToString();
        var simple = name switch
        {
            QualifiedNameSyntax q => q.Right,
            AliasQualifiedNameSyntax a => a.Name,
            _ => name as SimpleNameSyntax,
        };
        if (simple is null) return "Flatten";
        var prefix = written.Substring(0, written.Length - simple.ToString().Length);
        var suffix = simple.Identifier.ValueText.EndsWith("Attribute", System.StringComparison.Ordinal) ? "FlattenAttribute" : "Flatten";
        return prefix + suffix;
    }

    /// <summary>Whether only whitespace stands between the line start and <paramref name="position"/>; returns that whitespace.</summary>
    private static bool StartsLine(SourceText text, int position, out string indentation)
    {
        var line = text.Lines.GetLineFromPosition(position);
        indentation = text.ToString(TextSpan.FromBounds(line.Start, position));
        return indentation.All(c => c == ' ' || c == '\t');
    }

    /// <summary>The file's own line ending, so a CRLF file stays CRLF.</summary>
    internal static string NewLine(SyntaxNode root)
    {
        var endOfLine = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        return endOfLine.IsKind(SyntaxKind.EndOfLineTrivia) ? endOfLine.ToString() : "\n";
    }
}

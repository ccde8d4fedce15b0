using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Analysis;

/// <summary>
/// Reports every MG diagnostic, running the generator's own parse and shape planning (ModelParser, ShapeInference) on
/// each type that carries a ModelGen attribute. Diagnostics of an analyzer sit on real syntax locations, so
/// <c>#pragma warning disable</c> and .editorconfig severities apply, code fixes attach to them, and language servers
/// that show analyzer but not generator diagnostics (csharp-ls) squiggle them as you type.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = Descriptors.All.ToImmutableArray();

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // A compilation without the ModelGen runtime has no models: nothing to register.
            var sequential = start.Compilation.GetTypeByMetadataName(ModelParser.SequentialAttribute);
            if (sequential is null) return;
            var layers = ModelParser.LayerAttributes
                .Select(start.Compilation.GetTypeByMetadataName)
                .OfType<INamedTypeSymbol>()
                .ToImmutableHashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
            start.RegisterSymbolAction(symbolContext => AnalyzeType(symbolContext, sequential, layers), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol sequentialType, ImmutableHashSet<INamedTypeSymbol> layerTypes)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? sequential = null;
        List<AttributeData>? layers = null;
        foreach (var attribute in type.GetAttributes())
        {
            if (attribute.AttributeClass is not { } attributeClass) continue;
            if (SymbolEqualityComparer.Default.Equals(attributeClass, sequentialType)) sequential ??= attribute;
            else if (layerTypes.Contains(attributeClass)) (layers ??= new List<AttributeData>()).Add(attribute);
        }

        IReadOnlyList<DiagnosticInfo> diagnostics;
        if (sequential is not null)
        {
            if (sequential.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is not AttributeSyntax { Parent.Parent: TypeDeclarationSyntax declaration })
            {
                return;
            }

            diagnostics = ModelParser.Parse(declaration, type, sequential, context.CancellationToken).Diagnostics;
        }
        else if (layers is not null)
        {
            diagnostics = ModelParser.CheckLayerHost(type, layers, context.CancellationToken);
        }
        else
        {
            return;
        }

        foreach (var diagnostic in diagnostics) context.ReportDiagnostic(diagnostic.ToDiagnostic());
    }
}

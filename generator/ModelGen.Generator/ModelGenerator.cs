using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator;

/// <summary>
/// The ModelGen incremental generator: [Sequential] class -> parse and check -> shape plan -> emitted model surface,
/// CPU passes and GPU kernels. It reports no diagnostics: Analysis/ModelAnalyzer reports them from the same parse, on
/// real syntax locations, so each MG error shows once and editors that show only analyzer diagnostics squiggle it. A
/// model with an error generates nothing, so the generated code never adds errors of its own.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (used by the caching tests).</summary>
    public static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string Plan = nameof(Plan);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Only the plan leaves the transform: the parse's diagnostics (and their syntax locations) are dropped here, so
        // the cached pipeline holds plain values.
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelParser.SequentialAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (model, cancellationToken) => ModelParser.Parse(
                    (ClassDeclarationSyntax)model.TargetNode, (INamedTypeSymbol)model.TargetSymbol, model.Attributes[0], cancellationToken).Plan)
            .WithTrackingName(Steps.Parse);

        var plans = parsed
            .Where(static plan => plan is not null)
            .Select(static (plan, _) => plan!)
            .WithTrackingName(Steps.Plan);
        context.RegisterSourceOutput(plans, static (spc, plan) =>
        {
            spc.AddSource(GeneratedCode.HintName(plan, "Model"), ModelSurfaceEmitter.Emit(plan));
            spc.AddSource(GeneratedCode.HintName(plan, "Cpu"), CpuEmitter.Emit(plan));
            spc.AddSource(GeneratedCode.HintName(plan, "Gpu"), GpuEmitter.Emit(plan));
        });
    }
}

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Parsing;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator;

/// <summary>
/// The ModelGen incremental generator: [Sequential] class -> parse and check -> shape plan -> emitted model surface,
/// CPU passes and (when the compilation references ModelGen.Gpu) GPU kernels. It reports no diagnostics: Analysis/ModelAnalyzer reports them from the same parse, on
/// real syntax locations, so each MG error shows once and editors that show only analyzer diagnostics squiggle it. A
/// model whose layers have an error gets a stub surface (Emit/StubSurfaceEmitter) instead, so code that uses it
/// reports no errors of its own while the attributes are being fixed.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (used by the caching tests).</summary>
    public static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string Plan = nameof(Plan);
        public const string Stub = nameof(Stub);
        public const string GpuReferenced = nameof(GpuReferenced);
        public const string GpuPlan = nameof(GpuPlan);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Only plain values leave the transform: the parse's diagnostics (and their syntax locations) are dropped here,
        // so the cached pipeline holds no compiler objects.
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelParser.SequentialAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (model, cancellationToken) => ModelParser.Parse(
                    (ClassDeclarationSyntax)model.TargetNode, (INamedTypeSymbol)model.TargetSymbol, model.Attributes[0], cancellationToken).ForGenerator)
            .WithTrackingName(Steps.Parse);

        var plans = parsed
            .Where(static model => model.Plan is not null)
            .Select(static (model, _) => model.Plan!)
            .WithTrackingName(Steps.Plan);
        context.RegisterSourceOutput(plans, static (spc, plan) =>
        {
            spc.AddSource(GeneratedCode.HintName(plan, "Model"), ModelSurfaceEmitter.Emit(plan));
            spc.AddSource(GeneratedCode.HintName(plan, "Cpu"), CpuEmitter.Emit(plan));
        });

        // GPU kernels only where ModelGen.Gpu is referenced: a CPU-only project compiles no ILGPU code and needs no ILGPU.
        // The compilation is reduced to one bool at once, so an edit re-runs only this lookup and the plans stay cached.
        var gpuReferenced = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(GpuEmitter.KernelSourceMetadataName) is not null)
            .WithTrackingName(Steps.GpuReferenced);
        var gpuPlans = plans
            .Combine(gpuReferenced)
            .Where(static pair => pair.Right)
            .Select(static (pair, _) => pair.Left)
            .WithTrackingName(Steps.GpuPlan);
        context.RegisterSourceOutput(gpuPlans, static (spc, plan) =>
            spc.AddSource(GeneratedCode.HintName(plan, "Gpu"), GpuEmitter.Emit(plan)));

        // A model whose layers have errors still gets its public members (throwing), so that only the MG error shows.
        var stubs = parsed
            .Where(static model => model.Stub is not null)
            .Select(static (model, _) => model.Stub!)
            .WithTrackingName(Steps.Stub);
        context.RegisterSourceOutput(stubs.Combine(gpuReferenced), static (spc, pair) =>
            spc.AddSource(GeneratedCode.HintName(pair.Left.Namespace, pair.Left.ClassName, "Stub"), StubSurfaceEmitter.Emit(pair.Left, gpu: pair.Right)));
    }
}

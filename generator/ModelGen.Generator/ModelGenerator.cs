using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Model;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator;

/// <summary>
/// The ModelGen incremental generator: [Sequential] class -> parse and check (diagnostics as data) -> shape plan ->
/// emitted model surface and CPU passes. Diagnostics and source travel in separate pipelines so that edits which
/// only move code re-report diagnostics without regenerating source.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (used by the caching tests).</summary>
    public static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string Plan = nameof(Plan);
        public const string Diagnostics = nameof(Diagnostics);
        public const string LayerHosts = nameof(LayerHosts);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelParser.SequentialAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                ModelParser.Parse)
            .WithTrackingName(Steps.Parse);

        var diagnostics = parsed
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(Steps.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, items) =>
        {
            foreach (var item in items) spc.ReportDiagnostic(item.ToDiagnostic());
        });

        var plans = parsed
            .Select(static (result, _) => result.Plan)
            .Where(static plan => plan is not null)
            .Select(static (plan, _) => plan!)
            .WithTrackingName(Steps.Plan);
        context.RegisterSourceOutput(plans, static (spc, plan) =>
        {
            spc.AddSource(GeneratedCode.HintName(plan, "Model"), ModelSurfaceEmitter.Emit(plan));
            spc.AddSource(GeneratedCode.HintName(plan, "Cpu"), CpuEmitter.Emit(plan));
            spc.AddSource(GeneratedCode.HintName(plan, "Gpu"), GpuEmitter.Emit(plan));
        });

        // Layer attributes on a class without [Sequential]: one pipeline per layer attribute type.
        foreach (var layerAttribute in ModelParser.LayerAttributes)
        {
            var hosts = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    layerAttribute,
                    static (node, _) => node is ClassDeclarationSyntax,
                    ModelParser.CheckLayerHost)
                .Where(static items => items.Count > 0)
                .WithTrackingName(Steps.LayerHosts);
            context.RegisterSourceOutput(hosts, static (spc, items) =>
            {
                foreach (var item in items) spc.ReportDiagnostic(item.ToDiagnostic());
            });
        }
    }
}

using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Model;
using ModelGen.Generator.Shapes;

namespace ModelGen.Generator.Parsing;

/// <summary>The parse step's output: a plan to emit (null when there are errors) and every diagnostic found.</summary>
internal sealed record ModelParseResult(ModelPlan? Plan, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>Where each part of one layer attribute sits in source, for diagnostics. Never cached past the parse step.</summary>
internal sealed class LayerSource
{
    public LayerSource(string attributeName, LocationInfo? attribute, Dictionary<string, LocationInfo?> arguments)
    {
        AttributeName = attributeName;
        Attribute = attribute;
        Arguments = arguments;
    }

    public string AttributeName { get; }

    public LocationInfo? Attribute { get; }

    /// <summary>Argument locations by constructor parameter or property name; falls back to the attribute.</summary>
    public Dictionary<string, LocationInfo?> Arguments { get; }

    public LocationInfo? Argument(string name) => Arguments.TryGetValue(name, out var location) && location is not null ? location : Attribute;
}

/// <summary>Reads a [Sequential] class into specs, checks it and infers its shapes.</summary>
internal static class ModelParser
{
    public const string Namespace = "ModelGen";
    public const string SequentialAttribute = "ModelGen.SequentialAttribute";

    public static readonly ImmutableArray<string> LayerAttributes = ImmutableArray.Create(
        "ModelGen.Conv2DAttribute",
        "ModelGen.MaxPool2DAttribute",
        "ModelGen.AvgPool2DAttribute",
        "ModelGen.FlattenAttribute",
        "ModelGen.DenseAttribute");

    /// <summary>Members the generator adds; a class with one of these names would not compile (CS0542).</summary>
    public static readonly ImmutableHashSet<string> GeneratedMemberNames = ImmutableHashSet.Create(
        "Parameters", "Description", "ModelDescription", "Forward", "ForwardBackward", "Predict", "PredictBatch", "Fit",
        "Evaluate", "Save", "Load", "ParameterCount", "InputLength", "OutputLength", "WorkspaceLength", "Summary",
        "Architecture", "Fingerprint", "InputHeight", "InputWidth", "InputChannels", "Initialize", "ComputeGradients");

    public static ModelParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var declaration = (ClassDeclarationSyntax)context.TargetNode;
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var identifier = LocationInfo.From(declaration.Identifier.GetLocation());
        var canEmit = CheckClass(declaration, symbol, identifier, diagnostics);

        // Sequential(height, width, channels) or Sequential(length).
        var sequential = context.Attributes[0];
        var input = ParseInput(sequential, diagnostics, cancellationToken);

        var specs = new List<LayerSpec>();
        var sources = new List<LayerSource>();
        var attributesValid = true;
        foreach (var attribute in symbol.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = attribute.AttributeClass?.ToDisplayString();
            if (name is null || !LayerAttributes.Contains(name)) continue;

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            if (syntax?.Parent?.Parent != declaration)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    Descriptors.LayersSplitAcrossDeclarations, LocationInfo.From(syntax), ShortName(name), symbol.Name));
                canEmit = false;
                continue;
            }

            if (!IsWellFormed(attribute))
            {
                // The compiler already reports the broken attribute (wrong argument types, missing arguments).
                attributesValid = false;
                continue;
            }

            var source = ReadSource(ShortName(name), attribute, syntax);
            specs.Add(ReadLayer(name, attribute));
            sources.Add(source);
        }

        if (!IsWellFormed(sequential)) attributesValid = false;

        if (specs.Count == 0 && attributesValid)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelWithoutLayers, identifier, symbol.Name));
            canEmit = false;
        }

        ModelPlan? plan = null;
        if (input is { } inputShape && specs.Count > 0)
        {
            var ns = symbol.ContainingNamespace.IsGlobalNamespace ? string.Empty : symbol.ContainingNamespace.ToDisplayString();
            plan = ShapeInference.Infer(ns, symbol.Name, inputShape, specs, sources, diagnostics);
        }

        var hasErrors = diagnostics.Any(d => Descriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);
        var emit = canEmit && attributesValid && !hasErrors ? plan : null;
        return new ModelParseResult(emit, diagnostics.ToEquatableArray());
    }

    /// <summary>Reports MG0005 for layer attributes on a class that is not a model.</summary>
    public static EquatableArray<DiagnosticInfo> CheckLayerHost(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = context.TargetSymbol;
        if (symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == SequentialAttribute))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        return context.Attributes
            .Select(a => DiagnosticInfo.Create(
                Descriptors.LayerWithoutSequential,
                LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax(cancellationToken)),
                ShortName(a.AttributeClass?.ToDisplayString() ?? "layer"),
                symbol.Name))
            .ToEquatableArray();
    }

    private static bool CheckClass(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol, LocationInfo? identifier, List<DiagnosticInfo> diagnostics)
    {
        var ok = true;
        if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelNotPartial, identifier, symbol.Name));
            ok = false;
        }

        if (symbol.TypeParameters.Length > 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelGeneric, identifier, symbol.Name));
            ok = false;
        }

        if (symbol.ContainingType is { } outer)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelNested, identifier, symbol.Name, outer.Name));
            ok = false;
        }

        var wrongKind = symbol.IsStatic ? "static"
            : symbol.IsAbstract ? "abstract"
            : declaration.Modifiers.Any(m => m.Text == "file") ? "file"
            : null;
        if (wrongKind is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelWrongKind, identifier, symbol.Name, wrongKind));
            ok = false;
        }

        if (GeneratedMemberNames.Contains(symbol.Name))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelNameCollides, identifier, symbol.Name));
            ok = false;
        }

        return ok;
    }

    private static Shape? ParseInput(AttributeData sequential, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        if (!IsWellFormed(sequential)) return null;
        var syntax = sequential.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var source = ReadSource("Sequential", sequential, syntax);
        var parameters = sequential.AttributeConstructor!.Parameters;
        var values = sequential.ConstructorArguments.Select(a => a.Value is int i ? i : 0).ToArray();
        var valid = true;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    Descriptors.InputDimensionNotPositive, source.Argument(parameters[i].Name), parameters[i].Name, values[i]));
                valid = false;
            }
        }

        if (!valid) return null;
        return values.Length == 3 ? Shape.Image(values[0], values[1], values[2]) : Shape.Flat(values[0]);
    }

    private static LayerSpec ReadLayer(string attributeName, AttributeData attribute)
    {
        var kind = attributeName switch
        {
            "ModelGen.Conv2DAttribute" => LayerKind.Conv2D,
            "ModelGen.MaxPool2DAttribute" => LayerKind.MaxPool2D,
            "ModelGen.AvgPool2DAttribute" => LayerKind.AvgPool2D,
            "ModelGen.FlattenAttribute" => LayerKind.Flatten,
            _ => LayerKind.Dense,
        };

        var positional = attribute.ConstructorArguments.Select(a => a.Value is int i ? i : 0).ToArray();
        var size = positional.Length > 0 ? positional[0] : 0;
        var kernel = kind == LayerKind.Conv2D && positional.Length > 1 ? positional[1] : (kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D ? size : 0);

        // Stride: Conv2D defaults to 1; pooling defaults to the pool size (0 in the attribute means "not set").
        var stride = 1;
        var strideGiven = false;
        var padding = PaddingKind.Valid;
        var activation = ActivationKind.None;
        var declared = EquatableArray<int>.Empty;
        var hasDeclared = false;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Stride":
                    stride = named.Value.Value is int s ? s : 0;
                    strideGiven = true;
                    break;
                case "Padding":
                    padding = (PaddingKind)(named.Value.Value is int p ? p : 0);
                    break;
                case "Activation":
                    activation = (ActivationKind)(named.Value.Value is int act ? act : 0);
                    break;
                case "InputShape":
                    if (!named.Value.IsNull)
                    {
                        declared = named.Value.Values.Select(v => v.Value is int d ? d : 0).ToEquatableArray();
                        hasDeclared = true;
                    }
                    break;
            }
        }

        if (kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D && !strideGiven) stride = size;
        return new LayerSpec(kind, size, kernel, stride, padding, activation, declared, hasDeclared);
    }

    private static LayerSource ReadSource(string name, AttributeData attribute, AttributeSyntax? syntax)
    {
        var arguments = new Dictionary<string, LocationInfo?>();
        if (syntax?.ArgumentList is { } list && attribute.AttributeConstructor is { } constructor)
        {
            var position = 0;
            foreach (var argument in list.Arguments)
            {
                if (argument.NameEquals is { } nameEquals)
                {
                    arguments[nameEquals.Name.Identifier.ValueText] = LocationInfo.From(argument.Expression);
                }
                else if (argument.NameColon is { } nameColon)
                {
                    arguments[nameColon.Name.Identifier.ValueText] = LocationInfo.From(argument.Expression);
                }
                else if (position < constructor.Parameters.Length)
                {
                    arguments[constructor.Parameters[position++].Name] = LocationInfo.From(argument.Expression);
                }
            }
        }

        return new LayerSource(name, LocationInfo.From(syntax), arguments);
    }

    private static bool IsWellFormed(AttributeData attribute) =>
        attribute.AttributeConstructor is not null
        && attribute.ConstructorArguments.All(a => a.Kind != TypedConstantKind.Error && a.Value is int)
        && attribute.NamedArguments.All(a => a.Value.Kind != TypedConstantKind.Error
            && (a.Value.Kind != TypedConstantKind.Array || a.Value.IsNull || a.Value.Values.All(v => v.Value is int)));

    private static string ShortName(string attributeName)
    {
        var name = attributeName.StartsWith(Namespace + ".", System.StringComparison.Ordinal) ? attributeName.Substring(Namespace.Length + 1) : attributeName;
        return name.EndsWith("Attribute", System.StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }
}

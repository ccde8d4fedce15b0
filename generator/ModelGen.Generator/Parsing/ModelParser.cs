using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;
using ModelGen.Generator.Shapes;

namespace ModelGen.Generator.Parsing;

/// <summary>
/// What parsing one model found: the plan to emit (null when it has an error) and every diagnostic, in the order found.
/// Built for one run and thrown away: the generator keeps only the plan, the analyzer reports the diagnostics.
/// </summary>
internal sealed class ModelParseResult
{
    public ModelParseResult(ModelPlan? plan, ModelStub? stub, IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        Plan = plan;
        Stub = stub;
        Diagnostics = diagnostics;
    }

    public ModelPlan? Plan { get; }

    /// <summary>Set when the class itself is fine but its layers are not: the generator then emits the stub surface.</summary>
    public ModelStub? Stub { get; }

    /// <summary>What the generator keeps: plain values only.</summary>
    public GeneratorModel ForGenerator => new(Plan, Stub);

    public IReadOnlyList<DiagnosticInfo> Diagnostics { get; }
}

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
        "ModelGen.DenseAttribute",
        "ModelGen.BatchNormalizationAttribute",
        "ModelGen.DropoutAttribute",
        "ModelGen.GlobalAveragePooling2DAttribute");

    /// <summary>
    /// Parses and checks the model <paramref name="symbol"/> whose <paramref name="sequential"/> attribute sits on
    /// <paramref name="declaration"/>: the one implementation behind both the generator and the analyzer.
    /// </summary>
    public static ModelParseResult Parse(
        TypeDeclarationSyntax declaration, INamedTypeSymbol symbol, AttributeData sequential, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var identifier = LocationInfo.From(declaration.Identifier.GetLocation());
        var canEmit = CheckClass(declaration, symbol, identifier, diagnostics);

        // Sequential(height, width, channels) or Sequential(length).
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
        var ns = symbol.ContainingNamespace.IsGlobalNamespace ? string.Empty : symbol.ContainingNamespace.ToDisplayString();
        if (input is { } inputShape && specs.Count > 0)
        {
            plan = ShapeInference.Infer(ns, symbol.Name, inputShape, specs, sources, diagnostics);
        }

        var hasErrors = diagnostics.Any(d => Descriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);
        var emit = canEmit && attributesValid && !hasErrors ? plan : null;

        // A class that can take generated members but has layers in error gets the stub surface instead.
        var stub = canEmit && emit is null ? new ModelStub(ns, symbol.Name, input) : null;
        return new ModelParseResult(emit, stub, diagnostics);
    }

    /// <summary>MG0005 for each layer attribute of <paramref name="symbol"/>, a type without [Sequential].</summary>
    public static IReadOnlyList<DiagnosticInfo> CheckLayerHost(
        INamedTypeSymbol symbol, IEnumerable<AttributeData> layerAttributes, CancellationToken cancellationToken) =>
        layerAttributes
            .Select(a => DiagnosticInfo.Create(
                Descriptors.LayerWithoutSequential,
                LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax(cancellationToken)),
                ShortName(a.AttributeClass?.ToDisplayString() ?? "layer"),
                symbol.Name))
            .ToList();

    private static bool CheckClass(TypeDeclarationSyntax declaration, INamedTypeSymbol symbol, LocationInfo? identifier, List<DiagnosticInfo> diagnostics)
    {
        var ok = true;
        if (declaration is not ClassDeclarationSyntax)
        {
            // A record gets Equals, ToString, Clone and a copy constructor of its own: not what a network should be.
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelNotAClass, identifier, symbol.Name, declaration.Keyword.ValueText));
            ok = false;
        }

        if (symbol.GetAttributes().Count(a => a.AttributeClass?.ToDisplayString() == SequentialAttribute) > 1)
        {
            // [Sequential] on two partial declarations: the compiler reports CS0579; generating twice would clash.
            ok = false;
        }

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

        if (GeneratedNames.IsReservedForModelName(symbol.Name))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelNameCollides, identifier, symbol.Name));
            ok = false;
        }

        foreach (var member in symbol.GetMembers())
        {
            // Accessors are reported through their property or event.
            if (member is IMethodSymbol { AssociatedSymbol: not null }) continue;
            if (!GeneratedNames.IsMemberName(member.Name) || !GeneratedNames.IsDeclaredByUser(member)) continue;
            var location = member.Locations.FirstOrDefault(l => l.IsInSource && l.SourceTree == declaration.SyntaxTree)
                ?? member.Locations.FirstOrDefault(l => l.IsInSource);
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.MemberNameCollides, LocationInfo.From(location), symbol.Name, member.Name));
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
            "ModelGen.BatchNormalizationAttribute" => LayerKind.BatchNormalization,
            "ModelGen.DropoutAttribute" => LayerKind.Dropout,
            "ModelGen.GlobalAveragePooling2DAttribute" => LayerKind.GlobalAveragePooling2D,
            _ => LayerKind.Dense,
        };

        // Dropout(rate) is the one layer whose positional argument is a double.
        var rate = kind == LayerKind.Dropout && attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is double r ? r : 0;
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
        var momentum = LayerSpec.DefaultMomentum;
        var epsilon = LayerSpec.DefaultEpsilon;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Momentum":
                    momentum = named.Value.Value is double m ? m : double.NaN;
                    break;
                case "Epsilon":
                    epsilon = named.Value.Value is double e ? e : double.NaN;
                    break;
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
        return new LayerSpec(kind, size, kernel, stride, padding, activation, declared, hasDeclared, rate, momentum, epsilon);
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
        && attribute.ConstructorArguments.All(a => a.Kind != TypedConstantKind.Error && a.Value is int or double)
        && attribute.NamedArguments.All(a => a.Value.Kind != TypedConstantKind.Error
            && (a.Value.Kind != TypedConstantKind.Array || a.Value.IsNull || a.Value.Values.All(v => v.Value is int)));

    private static string ShortName(string attributeName)
    {
        var name = attributeName.StartsWith(Namespace + ".", System.StringComparison.Ordinal) ? attributeName.Substring(Namespace.Length + 1) : attributeName;
        return name.EndsWith("Attribute", System.StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }
}

using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Where a diagnostic goes: a real syntax location in user source, so that <c>#pragma warning disable</c> and
/// .editorconfig severities apply to it. Only the analyzer (Analysis/ModelAnalyzer) reports diagnostics; the generator
/// keeps none of them, so no location is ever held by its cached pipeline.
/// </summary>
internal sealed record LocationInfo(Location Location)
{
    public static LocationInfo? From(Location? location) =>
        location is null || !location.IsInSource ? null : new LocationInfo(location);

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public Location ToLocation() => Location;
}

/// <summary>Keys of diagnostic properties; the code fixes (generator/ModelGen.CodeFixes) read them by the same names.</summary>
internal static class DiagnosticPropertyKeys
{
    /// <summary>MG0105: the shape the layer really receives, as comma-separated sizes ("14,14,6").</summary>
    public const string InferredShape = "InferredShape";
}

/// <summary>One entry of a diagnostic's Properties dictionary (data a code fix needs, such as the inferred shape).</summary>
internal readonly record struct DiagnosticProperty(string Key, string Value);

/// <summary>A diagnostic as data: descriptor ID, message arguments, where it goes and properties for code fixes.</summary>
internal sealed record DiagnosticInfo(
    string Id, EquatableArray<string> Arguments, LocationInfo? Location, EquatableArray<DiagnosticProperty> Properties = default)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments) =>
        new(descriptor.Id, arguments.Select(a => a?.ToString() ?? string.Empty).ToEquatableArray(), location);

    public DiagnosticInfo WithProperty(string key, string value) =>
        this with { Properties = Properties.Concat(new[] { new DiagnosticProperty(key, value) }).ToEquatableArray() };

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(
            Descriptors.ById(Id),
            Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None,
            Properties.Count == 0 ? null : Properties.ToImmutableDictionary(p => p.Key, p => (string?)p.Value),
            Arguments.Cast<object>().ToArray());
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic ModelGen reports. IDs are stable; each has a section in docs/diagnostics.md (the help link).
/// MG00xx: the model class itself. MG01xx: layers and shapes.
/// </summary>
internal static class Descriptors
{
    private const string Category = "ModelGen";
    private const string HelpBase = "https://github.com/modelgen/modelgen/blob/main/docs/diagnostics.md#";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    public static readonly DiagnosticDescriptor ModelNotPartial = Error(
        "MG0001", "Model class must be partial",
        "Model class '{0}' must be declared 'partial' so that ModelGen can add the generated network to it; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor ModelGeneric = Error(
        "MG0002", "Model class must not be generic",
        "Model class '{0}' must not be generic: every shape of a generated network is a constant; remove the type parameters");

    public static readonly DiagnosticDescriptor ModelNested = Error(
        "MG0003", "Model class must not be nested",
        "Model class '{0}' must not be nested inside '{1}'; declare it at namespace level");

    public static readonly DiagnosticDescriptor ModelWrongKind = Error(
        "MG0004", "Model class must be an ordinary class",
        "Model class '{0}' must not be {1}: the generated model is instantiated and loaded from files; remove the '{1}' modifier");

    public static readonly DiagnosticDescriptor LayerWithoutSequential = Error(
        "MG0005", "Layer attribute without [Sequential]",
        "[{0}] on '{1}' has no effect because '{1}' has no [Sequential] attribute; add [Sequential(height, width, channels)] to make it a model");

    public static readonly DiagnosticDescriptor LayersSplitAcrossDeclarations = Error(
        "MG0006", "Layers split across partial declarations",
        "[{0}] of model '{1}' is on another partial declaration than [Sequential]; the layer order would depend on file order, so put every layer attribute on the declaration that carries [Sequential]");

    public static readonly DiagnosticDescriptor ModelWithoutLayers = Error(
        "MG0007", "Model has no layers",
        "Model '{0}' has no layers; add layer attributes such as [Dense(10, Activation = Activation.Softmax)] after [Sequential]");

    public static readonly DiagnosticDescriptor ModelNameCollides = Error(
        "MG0008", "Model class name collides with a generated member",
        "Model class '{0}' cannot be named like the generated member '{0}'; rename the class");

    public static readonly DiagnosticDescriptor ModelNotAClass = Error(
        "MG0009", "Model must be a class",
        "Model '{0}' is declared as a {1}; ModelGen generates networks into classes only: declare it as 'partial class {0}'");

    public static readonly DiagnosticDescriptor MemberNameCollides = Error(
        "MG0010", "Member collides with a generated member",
        "Model '{0}' declares '{1}', a name ModelGen generates in every model; rename your '{1}'");

    public static readonly DiagnosticDescriptor InputDimensionNotPositive = Error(
        "MG0101", "Input dimension must be positive",
        "[Sequential] input {0} is {1}; every input dimension must be at least 1");

    public static readonly DiagnosticDescriptor LayerArgumentNotPositive = Error(
        "MG0102", "Layer size must be positive",
        "{0}: {1} is {2}; it must be at least 1");

    public static readonly DiagnosticDescriptor InvalidEnumValue = Error(
        "MG0103", "Unknown enum value",
        "{0}: {1} value {2} is not a defined {1}; use one of {3}");

    public static readonly DiagnosticDescriptor MalformedInputShape = Error(
        "MG0104", "InputShape must be { h, w, c } or { n } with positive sizes",
        "{0}: InputShape {1} is not a valid shape; write new[] {{ height, width, channels }} for an image or new[] {{ length }} after Flatten, all at least 1");

    public static readonly DiagnosticDescriptor InputShapeMismatch = Error(
        "MG0105", "InputShape differs from the inferred shape",
        "{0} declares InputShape {1} but receives {2} from {3}; set InputShape = {4} or remove it");

    public static readonly DiagnosticDescriptor DenseNeedsFlatInput = Error(
        "MG0106", "Dense needs a 1-D input",
        "{0} needs a 1-D input but receives {1} from {2}; insert [Flatten] before it");

    public static readonly DiagnosticDescriptor SpatialLayerNeedsImage = Error(
        "MG0107", "Convolution and pooling need an image input",
        "{0} needs an image input (height x width x channels) but receives the 1-D shape {1} from {2}; move it before [Flatten] and [Dense] layers");

    public static readonly DiagnosticDescriptor WindowLargerThanInput = Error(
        "MG0108", "Window larger than its input",
        "{0}: the {1}x{1} window does not fit the {2} input from {3}; {4}");

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Error(
        "MG0109", "Softmax only on the last layer",
        "{0} uses Activation.Softmax, which ModelGen supports on the last layer only (it is fused with the cross-entropy loss); use Tanh, Relu, Sigmoid or None here");

    public static readonly DiagnosticDescriptor NetworkTooLarge = Error(
        "MG0110", "Network too large",
        "{0}: the network would need {1} {2}, more than the {3} a generated network supports; use fewer units, filters or a smaller input");

    public static readonly DiagnosticDescriptor FlattenOnFlatInput = Warning(
        "MG0111", "Flatten has no effect",
        "{0} receives the 1-D shape {1} from {2} and has no effect; remove it");

    public static readonly DiagnosticDescriptor NormalizationArgumentOutOfRange = Error(
        "MG0112", "BatchNormalization cannot normalise with this argument",
        "{0}: {1} is {2}; {3}");

    public static readonly DiagnosticDescriptor DropoutRateOutOfRange = Error(
        "MG0113", "Dropout rate must be at least 0 and below 1",
        "{0}: rate is {1}; use a value from 0 up to, but not including, 1: the fraction of values dropped in training (1 would drop every value and divide the rest by zero)");

    public static readonly DiagnosticDescriptor GlobalPoolingNeedsImage = Error(
        "MG0114", "GlobalAveragePooling2D needs an image input",
        "{0} needs an image input (height x width x channels) but receives the 1-D shape {1} from {2}; {3}");

    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = new[]
    {
        ModelNotPartial, ModelGeneric, ModelNested, ModelWrongKind, LayerWithoutSequential, LayersSplitAcrossDeclarations,
        ModelWithoutLayers, ModelNameCollides, ModelNotAClass, MemberNameCollides, InputDimensionNotPositive, LayerArgumentNotPositive, InvalidEnumValue,
        MalformedInputShape, InputShapeMismatch, DenseNeedsFlatInput, SpatialLayerNeedsImage, WindowLargerThanInput,
        SoftmaxNotLast, NetworkTooLarge, FlattenOnFlatInput, NormalizationArgumentOutOfRange, DropoutRateOutOfRange,
        GlobalPoolingNeedsImage,
    };

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => s_byId[id];
}

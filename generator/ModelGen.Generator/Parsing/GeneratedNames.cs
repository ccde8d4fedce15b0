using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Parsing;

/// <summary>
/// The names generated code declares inside a model class. A model named like one of them fails with CS0542/CS0050, a
/// user member named like one fails with CS0102/CS0111, both inside generated code; the parser reports MG0008/MG0010
/// instead and generates nothing. GeneratedNamesTests compiles many models with the real generator and fails when the
/// emitters declare a name that is not covered here, so the lists cannot fall behind the emitters unnoticed.
/// </summary>
internal static class GeneratedNames
{
    /// <summary>Members the generator declares directly in every model class (nested types included).</summary>
    public static readonly ImmutableHashSet<string> MemberNames = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        // The model surface (ModelSurfaceEmitter).
        "ParameterCount", "TrainableParameterCount", "NonTrainableParameterCount", "InputHeight", "InputWidth", "InputChannels", "InputLength", "OutputLength", "MicroBatch",
        "Architecture", "Fingerprint", "Summary", "s_description", "ModelDescription", "Description", "Parameters",
        "Optimizer", "History", "ClassNames", "Initialize", "Predict", "PredictBatch", "PredictClass", "Fit", "Evaluate",
        "ComputeGradients", "Save", "Load", "ExportOnnx",
        "ForwardMultiplyAdds", "TrainingMultiplyAddsPerSample", "ParameterBytes", "OptimizerStateBytes",
        "ActivationBytesPerSample", "WorkspaceBytesPerBatch",
        // The CPU passes (CpuEmitter).
        "CpuPasses", "Forward", "Backward", "UpdateStatistics", "WorkspaceLength",
        // The ILGPU kernels (GpuEmitter, where ModelGen.Gpu is referenced): the explicit kernel-source member and the kernel set.
        "CreateGpuKernels", "GpuKernels");

    /// <summary>
    /// Names declared inside the generated nested types (CpuPasses and its buffers, GpuKernels and its per-layer kernel
    /// classes, the per-layer shape structs). They cannot clash with user members, but a model named like one would be shadowed where generated code
    /// names the model. Buffer and parameter views named after the Keras layers follow <see cref="IsBufferName"/>.
    /// </summary>
    public static readonly ImmutableHashSet<string> NestedMemberNames = ImmutableHashSet.Create(
        StringComparer.Ordinal,
        "Buffers", "Weights", "WeightGradients", "LayerFloatsPerSample", "PassFloats", "WorkspaceLength", "input", "logits", "logits_grad",
        "scratch", "Inputs", "Units",
        "ScratchLength", "Forward", "Backward",
        "InHeight", "InWidth", "InChannels", "OutHeight", "OutWidth", "OutChannels", "Channels", "KernelSize", "PadTop",
        "PadLeft", "PoolSize", "Stride", "Pixels", "Epsilon", "Momentum", "OneMinusMomentum", "Layer", "DropThreshold", "KeepProbability",
        // GpuKernels and its per-layer classes (Conv2D_1_Gpu, ...; those follow the per-layer pattern).
        "GpuScratchLength", "PassAreaFloats", "InputFloats", "OutputFloats", "KernelLength", "LayerParameters", "GradientSlices", "WindowScale",
        "ActivationBackward", "ParameterGradient", "InputGradient",
        // BatchNormalization's kernels and limit in its per-layer GPU class.
        "SampleSums", "Moments", "InferenceStatistics", "MovingAverage", "GradientSums", "GradientReduce", "StatisticsLimit");

    /// <summary>
    /// Per-layer members are named <c>{Kind}_{position}_{what}</c> (<c>Conv2D_1_Forward</c>, <c>Dense_6_Kernel</c>; fields
    /// of nested types as <c>_conv2D_1_Forward</c>): the whole pattern is reserved, so emitters may add per-layer members
    /// without touching this file.
    /// </summary>
    public static bool IsLayerMemberName(string name)
    {
        var start = name.StartsWith("_", StringComparison.Ordinal) ? 1 : 0;
        var first = name.IndexOf('_', start);
        if (first <= start) return false;
        var second = name.IndexOf('_', first + 1);
        if (second < 0 || second == name.Length - 1 || second == first + 1) return false;
        if (!LayerKindNames.Contains(name.Substring(start, first - start))) return false;
        for (var i = first + 1; i < second; i++)
        {
            if (name[i] < '0' || name[i] > '9') return false;
        }

        return true;
    }

    /// <summary>
    /// Whether a user member of a model may not have this name (CS0102 in generated code otherwise). Accessor names
    /// count too: a method <c>get_Parameters()</c> clashes with the generated property's getter (CS0082).
    /// </summary>
    public static bool IsMemberName(string name) => IsDeclaredName(WithoutAccessorPrefix(name));

    /// <summary>Whether a model class may not have this name.</summary>
    public static bool IsReservedForModelName(string name)
    {
        var declared = WithoutAccessorPrefix(name);
        return IsDeclaredName(declared) || NestedMemberNames.Contains(declared) || IsBufferName(declared);
    }

    private static readonly string[] KerasBaseNames =
    {
        "conv2d", "max_pooling2d", "average_pooling2d", "flatten", "dense", "batch_normalization", "dropout", "global_average_pooling2d",
    };

    private static readonly string[] BufferSuffixes =
    {
        "_grad_out", "_grad_kernel", "_grad_bias", "_grad_gamma", "_grad_beta", "_out", "_kernel", "_bias", "_gamma", "_beta",
        "_moving_mean", "_moving_variance", "_sums", "_stats",
    };

    /// <summary>
    /// The buffers and parameter views of the CPU passes: a Keras layer name (<c>conv2d</c>, <c>dense_2</c>) and what it
    /// holds (<c>_out</c>, <c>_grad_out</c>, <c>_kernel</c>, <c>_grad_bias</c>…): the whole pattern is reserved.
    /// </summary>
    public static bool IsBufferName(string name)
    {
        foreach (var suffix in BufferSuffixes)
        {
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var layer = name.Substring(0, name.Length - suffix.Length);
            foreach (var baseName in KerasBaseNames)
            {
                if (layer == baseName) return true;
                if (!layer.StartsWith(baseName + "_", StringComparison.Ordinal) || layer.Length == baseName.Length + 1) continue;
                if (layer.Substring(baseName.Length + 1).All(char.IsDigit)) return true;
            }
        }

        return false;
    }

    private static bool IsDeclaredName(string name) => MemberNames.Contains(name) || IsLayerMemberName(name);

    private static readonly string[] AccessorPrefixes = { "get_", "set_", "add_", "remove_" };

    private static string WithoutAccessorPrefix(string name)
    {
        foreach (var prefix in AccessorPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length) return name.Substring(prefix.Length);
        }

        return name;
    }

    /// <summary>Layer kinds as they start per-layer names: Conv2D_1_… for members, _conv2D_1_… for fields.</summary>
    private static readonly ImmutableHashSet<string> LayerKindNames =
        ImmutableHashSet.CreateRange(StringComparer.OrdinalIgnoreCase, Enum.GetNames(typeof(LayerKind)));

    /// <summary>
    /// Roslyn places a generator's trees under <c>{assembly}/{generator type}/{hint name}</c>; members declared there are
    /// the generator's own, not the user's (the analyzer sees them, the generator's own input never does).
    /// </summary>
    public static bool IsDeclaredByUser(ISymbol member) =>
        !member.IsImplicitlyDeclared
        && member.DeclaringSyntaxReferences.Any(r => !IsGeneratedByModelGen(r.SyntaxTree));

    private static readonly string GeneratedFolder = typeof(ModelGenerator).FullName!;

    private static bool IsGeneratedByModelGen(SyntaxTree tree)
    {
        var path = tree.FilePath;
        var folder = path.IndexOf(GeneratedFolder, StringComparison.Ordinal);
        return folder > 0 && (path[folder - 1] == '/' || path[folder - 1] == '\\')
            && folder + GeneratedFolder.Length < path.Length
            && (path[folder + GeneratedFolder.Length] == '/' || path[folder + GeneratedFolder.Length] == '\\');
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Model;
using ModelGen.Generator.Parsing;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Shapes;

/// <summary>
/// Keras's shape arithmetic over the parsed layers: checks every layer against the shape it receives and reports every
/// problem at once (continuing past a recoverable one). A model without errors goes on to <see cref="ModelPlanner"/>.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Largest parameter buffer or workspace a generated network may use (floats).</summary>
    public const long MaxBufferLength = 1L << 28;

    public static ModelPlan? Infer(
        string ns,
        string className,
        Shape input,
        IReadOnlyList<LayerSpec> specs,
        IReadOnlyList<LayerSource> sources,
        List<DiagnosticInfo> diagnostics)
    {
        var errorsBefore = diagnostics.Count;
        var layers = new List<ShapedLayer>();
        Shape? current = input;
        var producer = "the input";
        long parameterOffset = 0;
        long workspaceOffset = 0;

        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var source = sources[i];
            var position = i + 1;
            var display = $"{spec.Kind} #{position}";
            var isLast = i == specs.Count - 1;
            var argumentsValid = CheckArguments(spec, source, display, isLast, diagnostics);
            var received = current;

            if (spec.HasDeclaredInputShape)
            {
                var declared = spec.DeclaredInputShape.ToArray();
                if ((declared.Length != 1 && declared.Length != 3) || declared.Any(d => d < 1))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        Descriptors.MalformedInputShape, source.Argument("InputShape"), display, FormatArray(declared)));
                }
                else if (received is { } r && !Matches(declared, r))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        Descriptors.InputShapeMismatch, source.Argument("InputShape"),
                        display, FormatShape(declared), r.ToString(), producer, FormatArray(ShapeArray(r)))
                        .WithProperty(DiagnosticPropertyKeys.InferredShape, string.Join(",", ShapeArray(r).Select(d => d.ToString(CultureInfo.InvariantCulture)))));
                }
            }

            if (received is not { } inShape || !argumentsValid)
            {
                current = null;
                continue;
            }

            Shape? output = null;
            int padTop = 0, padLeft = 0;
            switch (spec.Kind)
            {
                case LayerKind.Conv2D:
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    if (!inShape.IsImage)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.SpatialLayerNeedsImage, source.Attribute, Describe(spec, display), inShape.ToString(), producer));
                        break;
                    }

                    output = Spatial(spec, inShape, source, display, producer, diagnostics, out padTop, out padLeft);
                    break;

                case LayerKind.Flatten:
                    if (!inShape.IsImage)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.FlattenOnFlatInput, source.Attribute, display, inShape.ToString(), producer));
                    }

                    output = Shape.Flat(checked((int)Math.Min(inShape.Length, int.MaxValue)));
                    break;

                case LayerKind.Dense:
                    if (inShape.IsImage)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.DenseNeedsFlatInput, source.Attribute, Describe(spec, display), inShape.ToString(), producer));
                        inShape = Shape.Flat((int)Math.Min(inShape.Length, int.MaxValue)); // continue as if flattened, to report later problems too
                    }

                    output = Shape.Flat(spec.Size);
                    break;

                case LayerKind.BatchNormalization:
                case LayerKind.Dropout:
                    // Per channel of an image (channels last) or per unit of a vector: the shape passes through.
                    output = inShape;
                    break;

                case LayerKind.GlobalAveragePooling2D:
                    if (!inShape.IsImage)
                    {
                        var fix = producer.StartsWith("Flatten", StringComparison.Ordinal)
                            ? "remove that [Flatten]: GlobalAveragePooling2D itself turns h x w x c into c"
                            : "move it before the layers that make the shape 1-D ([Flatten], [Dense], [GlobalAveragePooling2D])";
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.GlobalPoolingNeedsImage, source.Attribute, display, inShape.ToString(), producer, fix));
                        break;
                    }

                    output = Shape.Flat(inShape.Channels);
                    break;
            }

            if (output is not { } outShape)
            {
                current = null;
                continue;
            }

            long parameters = spec.Kind switch
            {
                LayerKind.Conv2D => (long)spec.KernelSize * spec.KernelSize * inShape.Channels * spec.Size + spec.Size,
                LayerKind.Dense => inShape.Length * spec.Size + spec.Size,
                LayerKind.BatchNormalization => 4L * inShape.Channels, // gamma, beta, moving mean, moving variance
                _ => 0,
            };
            var needsBuffer = spec.Kind != LayerKind.Flatten;
            // BatchNormalization also keeps two partial sums per channel and sample.
            var perSample = (needsBuffer ? outShape.Length : 0) + (spec.Kind == LayerKind.BatchNormalization ? 2L * inShape.Channels : 0);
            if (parameterOffset + parameters > MaxBufferLength)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NetworkTooLarge, source.Attribute, display,
                    (parameterOffset + parameters).ToString("N0", CultureInfo.InvariantCulture), "parameters",
                    MaxBufferLength.ToString("N0", CultureInfo.InvariantCulture)));
                current = null;
                continue;
            }

            if (outShape.Length > MaxBufferLength || workspaceOffset + perSample > MaxBufferLength)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NetworkTooLarge, source.Attribute, display,
                    (workspaceOffset + outShape.Length).ToString("N0", CultureInfo.InvariantCulture), "activation values",
                    MaxBufferLength.ToString("N0", CultureInfo.InvariantCulture)));
                current = null;
                continue;
            }

            layers.Add(new ShapedLayer(
                position, spec.Kind, inShape, outShape, spec.Size, spec.KernelSize, spec.Stride, spec.Padding, padTop, padLeft, spec.Activation,
                spec.Rate, spec.Momentum, spec.Epsilon));
            parameterOffset += parameters;
            workspaceOffset += perSample;
            current = outShape;
            producer = display;
        }

        var hasErrors = diagnostics.Skip(errorsBefore).Any(d => Descriptors.ById(d.Id).DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        if (hasErrors || layers.Count != specs.Count) return null;

        // Each activation has a gradient buffer of the same size in a training pass.
        var workspace = 2 * workspaceOffset;
        if (workspace > MaxBufferLength)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NetworkTooLarge, sources[sources.Count - 1].Attribute, $"{specs[specs.Count - 1].Kind} #{specs.Count}",
                workspace.ToString("N0", CultureInfo.InvariantCulture), "workspace values", MaxBufferLength.ToString("N0", CultureInfo.InvariantCulture)));
            return null;
        }

        return ModelPlanner.Plan(ns, className, input, layers);
    }

    private static Shape? Spatial(
        LayerSpec spec, Shape input, LayerSource source, string display, string producer,
        List<DiagnosticInfo> diagnostics, out int padTop, out int padLeft)
    {
        padTop = padLeft = 0;
        var k = spec.KernelSize;
        var s = spec.Stride;
        if (spec.Kind == LayerKind.Conv2D && spec.Padding == PaddingKind.Same)
        {
            // Keras 'same': out = ceil(in / s); the odd extra padding goes bottom/right.
            var outH = (int)(((long)input.Height + s - 1) / s);
            var outW = (int)(((long)input.Width + s - 1) / s);
            padTop = (int)Math.Max(((long)outH - 1) * s + k - input.Height, 0) / 2;
            padLeft = (int)Math.Max(((long)outW - 1) * s + k - input.Width, 0) / 2;
            return Shape.Image(outH, outW, spec.Size);
        }

        if (k > input.Height || k > input.Width)
        {
            var largest = Math.Min(input.Height, input.Width);
            var fix = spec.Kind == LayerKind.Conv2D
                ? $"use KernelSize <= {largest}, or Padding = Padding.Same"
                : $"use a pool size of at most {largest}";
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.WindowLargerThanInput,
                source.Argument(spec.Kind == LayerKind.Conv2D ? "kernelSize" : "poolSize"),
                display, k, input.ToString(), producer, fix));
            return null;
        }

        var channels = spec.Kind == LayerKind.Conv2D ? spec.Size : input.Channels;
        return Shape.Image((input.Height - k) / s + 1, (input.Width - k) / s + 1, channels);
    }

    private static bool CheckArguments(LayerSpec spec, LayerSource source, string display, bool isLast, List<DiagnosticInfo> diagnostics)
    {
        var ok = true;
        void Positive(int value, string argument, string label)
        {
            if (value >= 1) return;
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.LayerArgumentNotPositive, source.Argument(argument), display, label, value));
            ok = false;
        }

        switch (spec.Kind)
        {
            case LayerKind.Conv2D:
                Positive(spec.Size, "filters", "filters");
                Positive(spec.KernelSize, "kernelSize", "kernelSize");
                Positive(spec.Stride, "Stride", "Stride");
                break;
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                Positive(spec.Size, "poolSize", "poolSize");
                Positive(spec.Stride, "Stride", "Stride");
                break;
            case LayerKind.Dense:
                Positive(spec.Size, "units", "units");
                break;
            case LayerKind.BatchNormalization:
                // Keras accepts any momentum, but outside [0, 1] the moving statistics diverge or never move.
                if (!(spec.Momentum >= 0 && spec.Momentum <= 1))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.NormalizationArgumentOutOfRange, source.Argument("Momentum"), display, "Momentum",
                        Format(spec.Momentum), "use a value from 0 to 1 (Keras's default is 0.99): moving = moving * Momentum + batch * (1 - Momentum)"));
                    ok = false;
                }

                if (!(spec.Epsilon > 0 && spec.Epsilon <= float.MaxValue) || (float)spec.Epsilon == 0f)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.NormalizationArgumentOutOfRange, source.Argument("Epsilon"), display, "Epsilon",
                        Format(spec.Epsilon), "use a positive value that a float can hold (Keras's default is 0.001): without it a channel whose values are all equal in a batch divides zero by zero"));
                    ok = false;
                }

                break;
            case LayerKind.Dropout:
                if (!(spec.Rate >= 0 && spec.Rate < 1))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.DropoutRateOutOfRange, source.Argument("rate"), display, Format(spec.Rate)));
                    ok = false;
                }

                break;
        }

        if (!Enum.IsDefined(typeof(PaddingKind), spec.Padding))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidEnumValue, source.Argument("Padding"), display, "Padding", (int)spec.Padding, "Padding.Valid, Padding.Same"));
            ok = false;
        }

        if (!Enum.IsDefined(typeof(ActivationKind), spec.Activation))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidEnumValue, source.Argument("Activation"), display, "Activation", (int)spec.Activation,
                "Activation.None, Activation.Tanh, Activation.Relu, Activation.Sigmoid, Activation.Softmax"));
            ok = false;
        }
        else if (spec.Activation == ActivationKind.Softmax && !isLast)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SoftmaxNotLast, source.Argument("Activation"), Describe(spec, display)));
        }

        return ok;
    }

    /// <summary>A double as the user wrote it (shortest round-trip form, invariant culture).</summary>
    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static bool Matches(int[] declared, Shape shape) =>
        shape.IsImage
            ? declared.Length == 3 && declared[0] == shape.Height && declared[1] == shape.Width && declared[2] == shape.Channels
            : declared.Length == 1 && declared[0] == shape.Channels;

    private static int[] ShapeArray(Shape shape) =>
        shape.IsImage ? new[] { shape.Height, shape.Width, shape.Channels } : new[] { shape.Channels };

    private static string FormatShape(int[] dims) => string.Join("x", dims.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private static string FormatArray(int[] dims) => "new[] { " + string.Join(", ", dims.Select(d => d.ToString(CultureInfo.InvariantCulture))) + " }";

    /// <summary>The layer as the user wrote it, for messages: Dense(120), Conv2D(16, 5), MaxPool2D(2).</summary>
    private static string Describe(LayerSpec spec, string display)
    {
        var call = spec.Kind switch
        {
            LayerKind.Conv2D => $"Conv2D({spec.Size}, {spec.KernelSize})",
            LayerKind.Dense => $"Dense({spec.Size})",
            LayerKind.Flatten => "Flatten",
            LayerKind.BatchNormalization => "BatchNormalization",
            LayerKind.GlobalAveragePooling2D => "GlobalAveragePooling2D",
            LayerKind.Dropout => $"Dropout({Format(spec.Rate)})",
            _ => $"{spec.Kind}({spec.Size})",
        };
        return $"{call} ({display})";
    }
}

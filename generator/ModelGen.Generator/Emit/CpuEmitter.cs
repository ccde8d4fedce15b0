using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Emit;

/// <summary>
/// Emits the CPU passes of a plan (file <c>Name.Cpu.g.cs</c>): a nested <c>CpuPasses</c> class with one struct of
/// literals per layer shape, the named buffers and parameter views of a pass, and <c>Forward</c>/<c>Backward</c> that
/// run each layer over the whole batch on the runtime's kernels, one statement per layer and direction.
/// </summary>
internal static class CpuEmitter
{
    private const string Services = "global::ModelGen.CompilerServices";
    private const string Span = "global::System.Span<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";

    /// <summary>The nested class that holds the passes.</summary>
    public const string PassesClass = "CpuPasses";

    public static string Emit(ModelPlan plan)
    {
        var w = new SourceWriter();
        GeneratedCode.Header(w, plan);
        w.Open($"partial class {plan.ClassName}");
        w.Raw("/// <summary>");
        w.Line($"/// The CPU passes of {SourceWriter.Xml(plan.ClassName)}, batch-major: each layer's forward and backward run over every sample");
        w.Raw("/// of a pass at once, on ModelGen's runtime kernels compiled for the layer's shape (the structs below, whose literals the");
        w.Raw("/// JIT folds into the kernels). Buffers are named after the Keras layers: conv2d_out is the output of conv2d,");
        w.Raw("/// conv2d_grad_out its gradient; [N, ...] is the pass's sample count.");
        w.Raw("/// </summary>");
        w.OpenRaw($"private static class {PassesClass}");
        foreach (var layer in plan.Layers) ShapeStruct(w, layer);
        Layout(w, plan);
        Buffers(w, plan);
        Weights(w, plan, gradients: false);
        if (plan.Trainable) Weights(w, plan, gradients: true);
        Forward(w, plan);
        Backward(w, plan);
        UpdateStatistics(w, plan);
        w.Close();
        w.Close();
        GeneratedCode.Footer(w, plan);
        return w.ToString();
    }

    private static void ShapeStruct(SourceWriter w, LayerPlan layer)
    {
        if (layer.IsView) return;
        w.Raw("/// <summary>Shape of " + SourceWriter.Xml(GeneratedCode.Describe(layer)) + ".</summary>");
        switch (layer.Kind)
        {
            case LayerKind.Conv2D:
                w.Line($"private readonly struct {layer.ShapeType} : {Services}.IConvShape");
                w.OpenBrace();
                w.Line($"public static int InHeight => {layer.Input.Height};");
                w.Line($"public static int InWidth => {layer.Input.Width};");
                w.Line($"public static int InChannels => {layer.Input.Channels};");
                w.Line($"public static int OutHeight => {layer.Output.Height};");
                w.Line($"public static int OutWidth => {layer.Output.Width};");
                w.Line($"public static int OutChannels => {layer.Output.Channels};");
                w.Line($"public static int KernelSize => {layer.KernelSize};");
                w.Line($"public static int Stride => {layer.Stride};");
                w.Line($"public static int PadTop => {layer.PadTop};");
                w.Line($"public static int PadLeft => {layer.PadLeft};");
                break;
            case LayerKind.Dense:
                w.Line($"private readonly struct {layer.ShapeType} : {Services}.IDenseShape");
                w.OpenBrace();
                w.Line($"public static int Inputs => {layer.Input.Length};");
                w.Line($"public static int Units => {layer.Size};");
                break;
            case LayerKind.BatchNormalization:
                w.Line($"private readonly struct {layer.ShapeType} : {Services}.INormalizationShape");
                w.OpenBrace();
                w.Line($"public static int Pixels => {layer.Input.Height * layer.Input.Width};");
                w.Line($"public static int Channels => {layer.Input.Channels};");
                w.Raw($"public static float Epsilon => {SourceWriter.Float((float)layer.Epsilon)};");
                w.Raw($"public static float Momentum => {SourceWriter.Float((float)layer.Momentum)};");
                w.Raw($"public static float OneMinusMomentum => {SourceWriter.Float((float)(1.0 - layer.Momentum))};");
                break;
            case LayerKind.Dropout:
                w.Line($"private readonly struct {layer.ShapeType} : {Services}.IDropoutShape");
                w.OpenBrace();
                w.Line($"public static int Units => {layer.Input.Length};");
                w.Line($"public static int Layer => {layer.Position};");
                w.Line($"public static int DropThreshold => {GeneratedCode.DropThreshold(layer.Rate)}; // round(rate * 2^24)");
                w.Raw($"public static float KeepProbability => {SourceWriter.Float((float)(1.0 - layer.Rate))};");
                break;
            case LayerKind.GlobalAveragePooling2D:
                w.Line($"private readonly struct {layer.ShapeType} : {Services}.IGlobalPoolShape");
                w.OpenBrace();
                w.Line($"public static int Pixels => {layer.Input.Height * layer.Input.Width};");
                w.Line($"public static int Channels => {layer.Input.Channels};");
                break;
            default:
                w.Line($"private readonly struct {layer.ShapeType} : {Services}.IPoolShape");
                w.OpenBrace();
                w.Line($"public static int InHeight => {layer.Input.Height};");
                w.Line($"public static int InWidth => {layer.Input.Width};");
                w.Line($"public static int Channels => {layer.Input.Channels};");
                w.Line($"public static int OutHeight => {layer.Output.Height};");
                w.Line($"public static int OutWidth => {layer.Output.Width};");
                w.Line($"public static int PoolSize => {layer.KernelSize};");
                w.Line($"public static int Stride => {layer.Stride};");
                break;
        }

        w.Close();
        w.Raw();
    }

    private static string Kernels(LayerPlan layer) => layer.Kind switch
    {
        LayerKind.Conv2D => Services + ".Convolution",
        LayerKind.Dense => Services + ".Dense",
        LayerKind.BatchNormalization => Services + ".Normalization",
        LayerKind.Dropout => Services + ".Dropout",
        LayerKind.GlobalAveragePooling2D => Services + ".GlobalPooling",
        _ => Services + ".Pooling",
    };

    private static void Layout(SourceWriter w, ModelPlan plan)
    {
        w.Line($"/// <summary>Floats per sample of the layer area: activations, then their gradients (see <see cref=\"Buffers\"/>).</summary>");
        w.Line($"private const int LayerFloatsPerSample = {plan.BufferFloatsPerSample};");
        w.Raw();
        if (plan.PassFloats > 0)
        {
            w.Raw("/// <summary>Floats of the pass area after the layer area, whatever the sample count: the batch statistics.</summary>");
            w.Line($"private const int PassFloats = {plan.PassFloats};");
            w.Raw();
        }

        var pass = plan.PassFloats > 0 ? " + PassFloats" : string.Empty;
        w.Raw("/// <summary>Floats of workspace a pass of <paramref name=\"capacity\"/> samples needs.</summary>");
        w.Raw("public static long WorkspaceLength(int capacity) =>");
        w.Indent();
        w.Raw($"{Services}.WorkspaceLayout.PrefixLength(capacity, InputLength, OutputLength) + (long)LayerFloatsPerSample * capacity{pass} + ScratchLength(capacity);");
        w.Outdent();
        w.Raw();
        var scratch = plan.Layers.Where(l => l.Kind is LayerKind.Conv2D or LayerKind.Dense)
            .Select(l => $"{Kernels(l)}.ScratchLength<{l.ShapeType}>(capacity)").ToList();
        w.Raw("/// <summary>Kernel scratch (zero-bordered images, transposed weights): one area the layers use one after the other.</summary>");
        w.Raw("private static long ScratchLength(int capacity) =>");
        w.Indent();
        if (scratch.Count == 0) w.Raw("0;");
        else w.Raw(scratch.Skip(1).Aggregate(scratch[0], (all, next) => $"global::System.Math.Max({all}, {next})") + ";");
        w.Outdent();
        w.Raw();
    }

    private static void Buffers(SourceWriter w, ModelPlan plan)
    {
        w.Raw("/// <summary>The buffers of one pass, each holding [capacity, ...] floats, sample after sample, channels last.</summary>");
        w.Raw("private readonly ref struct Buffers");
        w.OpenBrace();
        GeneratedCode.BufferFields(w, plan, Span, "Kernel scratch.");
        w.Raw();
        w.Line($"public Buffers({Span} workspace, int capacity)");
        w.OpenBrace();
        w.Line($"{ContractBuffers.Input} = {Services}.WorkspaceLayout.Input(workspace, capacity, InputLength, OutputLength);");
        w.Line($"{ContractBuffers.Logits} = {Services}.WorkspaceLayout.Logits(workspace, capacity, InputLength, OutputLength);");
        w.Line($"{ContractBuffers.LogitsGradient} = {Services}.WorkspaceLayout.LogitsGradient(workspace, capacity, InputLength, OutputLength);");
        w.Line($"var layers = {Services}.WorkspaceLayout.Layers(workspace, capacity, InputLength, OutputLength);");
        foreach (var b in plan.Buffers)
        {
            w.Line($"{b.Identifier} = layers.Slice({b.OffsetPerSample} * capacity, {b.PerSample} * capacity);");
        }

        foreach (var b in plan.PassBuffers)
        {
            w.Line($"{b.Identifier} = layers.Slice(LayerFloatsPerSample * capacity + {b.Offset}, {b.Length});");
        }

        w.Line($"scratch = layers.Slice(LayerFloatsPerSample * capacity{(plan.PassFloats > 0 ? " + PassFloats" : string.Empty)});");
        w.Close();
        w.Close();
        w.Raw();
    }

    private static void Weights(SourceWriter w, ModelPlan plan, bool gradients)
    {
        var type = gradients ? "WeightGradients" : "Weights";
        var span = gradients ? Span : ReadOnlySpan;
        w.Raw(gradients
            ? "/// <summary>The gradients of the trainable parameters: slices of the gradient buffer at the parameters' offsets.</summary>"
            : plan.NonTrainableParameterCount > 0
                ? "/// <summary>The parameter tensors, in Keras layouts: slices of the parameter buffer (trainable ones first, then the moving statistics).</summary>"
                : "/// <summary>The parameter tensors, in Keras layouts: slices of the parameter buffer.</summary>");
        w.Raw($"private readonly ref struct {type}");
        w.OpenBrace();
        var tensors = (gradients ? plan.TrainableParameters : plan.Parameters).ToList();
        foreach (var t in tensors)
        {
            var name = gradients ? t.GradientIdentifier : t.Identifier;
            w.Line($"/// <summary>{(gradients ? "d(loss)/d(" + t.KerasName + ")" : t.KerasName)}, [{string.Join(", ", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}].</summary>");
            w.Line($"public readonly {span} {name};");
            w.Raw();
        }

        w.Line($"public {type}({span} all)");
        w.OpenBrace();
        foreach (var t in tensors) w.Line($"{(gradients ? t.GradientIdentifier : t.Identifier)} = all.Slice({t.Offset}, {t.Length});");
        w.Close();
        w.Close();
        w.Raw();
    }

    private static string Activation(ActivationKind activation) => activation switch
    {
        ActivationKind.Tanh => Services + ".Activations.Tanh",
        ActivationKind.Relu => Services + ".Activations.Relu",
        ActivationKind.Sigmoid => Services + ".Activations.Sigmoid",
        _ => Services + ".Activations.Linear",
    };

    private static void Forward(SourceWriter w, ModelPlan plan)
    {
        w.Raw("/// <summary>Every layer forward, input to logits; activations stay in the workspace for <see cref=\"Backward\"/>.</summary>");
        w.Line($"public static void Forward(in {Services}.BatchPass pass, {ReadOnlySpan} parameters, {Span} workspace)");
        w.OpenBrace();
        w.Raw("var b = new Buffers(workspace, pass.Capacity);");
        if (plan.ParameterCount > 0) w.Raw("var p = new Weights(parameters);");
        foreach (var layer in plan.Layers)
        {
            w.Raw();
            w.Raw("// " + GeneratedCode.Describe(layer, batched: true));
            var x = "b." + layer.InputBuffer;
            var y = "b." + layer.OutputBuffer;
            switch (layer.Kind)
            {
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                    if (layer.Activation == ActivationKind.Softmax) w.Raw("// (softmax is applied with the loss in training, and by Predict)");
                    w.Line($"{Kernels(layer)}.Forward<{layer.ShapeType}, {Activation(layer.Activation)}>(pass, {x}, p.{layer.Kernel!.Identifier}, p.{layer.Bias!.Identifier}, {y}, b.scratch);");
                    break;
                case LayerKind.MaxPool2D:
                    w.Line($"{Kernels(layer)}.MaxForward<{layer.ShapeType}>(pass, {x}, {y});");
                    break;
                case LayerKind.AvgPool2D:
                    w.Line($"{Kernels(layer)}.AverageForward<{layer.ShapeType}>(pass, {x}, {y});");
                    break;
                case LayerKind.Flatten when layer.OutputBuffer == layer.InputBuffer:
                    w.Line($"// (channels last is already flat: the next layer reads {layer.InputBuffer})");
                    break;
                case LayerKind.Flatten:
                    w.Line($"{x}.Slice(0, pass.Count * {layer.Input.Length}).CopyTo({y});");
                    break;
                case LayerKind.BatchNormalization:
                {
                    var stats = "b." + layer.StatisticsBuffer;
                    w.Line($"if (pass.Training) {Kernels(layer)}.TrainingForward<{layer.ShapeType}>(pass, {x}, p.{layer.Gamma!.Identifier}, p.{layer.Beta!.Identifier}, b.{layer.SumsBuffer}, {stats}, {y}); // the batch's mean and biased variance");
                    w.Line($"else {Kernels(layer)}.InferenceForward<{layer.ShapeType}>(pass, {x}, p.{layer.Gamma.Identifier}, p.{layer.Beta.Identifier}, p.{layer.MovingMean!.Identifier}, p.{layer.MovingVariance!.Identifier}, {stats}, {y}); // the moving statistics");
                    break;
                }
                case LayerKind.Dropout:
                    w.Line($"if (pass.Training) {Kernels(layer)}.TrainingForward<{layer.ShapeType}>(pass, {x}, {y}); // drops {GeneratedCode.Percent(layer.Rate)} of the values, divides the others by {ModelPlanner.Number(1.0 - layer.Rate)}");
                    w.Line($"else {x}.Slice(0, pass.Count * {layer.Input.Length}).CopyTo({y}); // inference: every value passes unchanged");
                    break;
                case LayerKind.GlobalAveragePooling2D:
                    w.Line($"{Kernels(layer)}.AverageForward<{layer.ShapeType}>(pass, {x}, {y});");
                    break;
            }
        }

        w.Close();
        w.Raw();
    }

    private static void UpdateStatistics(SourceWriter w, ModelPlan plan)
    {
        w.Raw();
        w.Raw("/// <summary>");
        w.Raw("/// After a training <see cref=\"Forward\"/> whose step was applied: moves each BatchNormalization layer's moving mean and");
        w.Raw("/// variance toward the pass's batch statistics (Keras: moving = moving * momentum + batch * (1 - momentum)).");
        w.Raw("/// </summary>");
        w.Line($"public static void UpdateStatistics(in {Services}.BatchPass pass, {Span} parameters, {Span} workspace)");
        w.OpenBrace();
        var normalizations = plan.Layers.Where(l => l.Kind == LayerKind.BatchNormalization).ToList();
        if (normalizations.Count == 0)
        {
            w.Raw("// The network has no moving statistics: there is nothing to update.");
            w.Close();
            return;
        }

        w.Raw("var b = new Buffers(workspace, pass.Capacity);");
        foreach (var layer in normalizations)
        {
            var mean = layer.MovingMean!;
            var variance = layer.MovingVariance!;
            w.Raw($"// {layer.KerasName} ({layer.DisplayName}): momentum {ModelPlanner.Number(layer.Momentum)}; {mean.KerasName} and {variance.KerasName}");
            w.Line($"{Kernels(layer)}.UpdateMovingStatistics<{layer.ShapeType}>(b.{layer.StatisticsBuffer}, parameters.Slice({mean.Offset}, {mean.Length}), parameters.Slice({variance.Offset}, {variance.Length}));");
        }

        w.Close();
    }

    private static void Backward(SourceWriter w, ModelPlan plan)
    {
        w.Raw("/// <summary>");
        w.Raw("/// Every layer backward, from d(loss)/d(logits) to the parameter gradients (summed over the pass's samples), after");
        w.Raw("/// <see cref=\"Forward\"/> on the same workspace. Layers before the first one with parameters need no backward pass.");
        w.Raw("/// </summary>");
        w.Line($"public static void Backward(in {Services}.BatchPass pass, {ReadOnlySpan} parameters, {Span} workspace, {Span} gradient)");
        w.OpenBrace();
        if (!plan.Trainable)
        {
            w.Raw("// The network has no parameters: there is nothing to compute.");
            w.Close();
            return;
        }

        w.Raw("var b = new Buffers(workspace, pass.Capacity);");
        w.Raw("var p = new Weights(parameters);");
        w.Raw("var g = new WeightGradients(gradient);");
        foreach (var layer in plan.Layers.Reverse().Where(l => l.RunsBackward))
        {
            w.Raw();
            w.Raw("// " + GeneratedCode.Describe(layer, batched: true));
            var x = "b." + layer.InputBuffer;
            var y = "b." + layer.OutputBuffer;
            var dy = "b." + layer.OutputGradientBuffer;
            var dx = layer.InputGradientBuffer is { } grad ? "b." + grad : "default";
            switch (layer.Kind)
            {
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                    if (layer.ActivationGradientByNext)
                    {
                        w.Raw($"// ({dy.Substring(2)} already includes the {GeneratedCode.Activation(layer.Activation)} derivative: the next layer's backward pass applied it)");
                    }
                    else if (layer.Activation is ActivationKind.Tanh or ActivationKind.Relu or ActivationKind.Sigmoid)
                    {
                        w.Line($"{Services}.Activations.Backward<{Activation(layer.Activation)}>(pass, {y}, {dy}, {layer.Output.Length}); // {ActivationRule(layer.Activation)}");
                    }
                    else if (layer.Activation == ActivationKind.Softmax)
                    {
                        w.Raw("// (d(loss)/d(logits) already includes the softmax: it was computed with the loss)");
                    }

                    if (layer.InputGradientBuffer is null) w.Raw("// (no layer before this one has parameters: d(loss)/d(input) is not needed)");
                    w.Line($"{Kernels(layer)}.Backward<{layer.ShapeType}>(pass, {x}, p.{layer.Kernel!.Identifier}, {dy}, g.{layer.Kernel.GradientIdentifier}, g.{layer.Bias!.GradientIdentifier}, {dx}, b.scratch);");
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    var kernel = layer.Kind == LayerKind.MaxPool2D ? "MaxBackward" : "AverageBackward";
                    var input = layer.Kind == LayerKind.MaxPool2D || layer.InputActivation != ActivationKind.None ? x : "default";
                    var rule = layer.InputActivation == ActivationKind.None ? "" : $" // dx includes the {GeneratedCode.Activation(layer.InputActivation)} derivative of the layer before";
                    w.Line($"{Kernels(layer)}.{kernel}<{layer.ShapeType}, {Activation(layer.InputActivation)}>(pass, {input}, {dy}, {dx});{rule}");
                    break;
                case LayerKind.Flatten when layer.OutputGradientBuffer == layer.InputGradientBuffer:
                    w.Raw("// (a view of the same memory: the gradient passes through unchanged)");
                    break;
                case LayerKind.Flatten:
                    w.Line($"{dy}.Slice(0, pass.Count * {layer.Input.Length}).CopyTo({dx});");
                    break;
                case LayerKind.BatchNormalization:
                    if (layer.InputGradientBuffer is null) w.Raw("// (no layer before this one has parameters: d(loss)/d(input) is not needed)");
                    w.Line($"{Kernels(layer)}.Backward<{layer.ShapeType}>(pass, {x}, {dy}, b.{layer.StatisticsBuffer}, b.{layer.SumsBuffer}, g.{layer.Gamma!.GradientIdentifier}, g.{layer.Beta!.GradientIdentifier}, {dx}); // through the batch statistics");
                    break;
                case LayerKind.Dropout:
                    w.Line($"{Kernels(layer)}.Backward<{layer.ShapeType}>(pass, {dy}, {dx}); // the forward pass's mask, recomputed");
                    break;
                case LayerKind.GlobalAveragePooling2D:
                    w.Line($"{Kernels(layer)}.AverageBackward<{layer.ShapeType}>(pass, {dy}, {dx});");
                    break;
            }
        }

        w.Close();
    }

    private static string ActivationRule(ActivationKind activation) => activation switch
    {
        ActivationKind.Tanh => "dy *= 1 - y²",
        ActivationKind.Relu => "dy *= (y > 0)",
        _ => "dy *= y (1 - y)",
    };
}

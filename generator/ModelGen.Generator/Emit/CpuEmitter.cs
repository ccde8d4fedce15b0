using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit;

/// <summary>
/// Emits the CPU forward and backward passes: one straight-line block per layer, named after it
/// (<c>Conv2D_1_Forward</c>), with every dimension a constant and small windows written out. Activations live in one
/// preallocated workspace; parameters and gradients each in one buffer with the same layout.
/// </summary>
internal static class CpuEmitter
{
    private const string Span = "global::System.Span<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
    private const string Ops = "global::ModelGen.Cpu.CpuKernels";

    /// <summary>Kernel windows up to this side are written out row by row; larger ones loop.</summary>
    private const int MaxUnrolledKernel = 7;

    /// <summary>Pooling windows with up to this many cells are written out cell by cell.</summary>
    private const int MaxUnrolledPoolCells = 16;

    public static string Emit(ModelPlan plan)
    {
        var w = new SourceWriter();
        GeneratedCode.Header(w, plan);
        w.Open($"partial class {plan.ClassName}");
        EntryPoints(w, plan);
        foreach (var layer in plan.Layers)
        {
            switch (layer.Kind)
            {
                case LayerKind.Conv2D:
                    ConvForward(w, layer);
                    ConvBackward(w, layer, NeedsInputGradient(plan, layer));
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    PoolForward(w, layer);
                    if (NeedsInputGradient(plan, layer)) PoolBackward(w, layer);
                    break;
                case LayerKind.Dense:
                    DenseForward(w, layer);
                    DenseBackward(w, layer, NeedsInputGradient(plan, layer));
                    break;
            }
        }

        w.Close();
        GeneratedCode.Footer(w, plan);
        return w.ToString();
    }

    /// <summary>A layer needs d(loss)/d(input) only when some layer before it has parameters.</summary>
    private static bool NeedsInputGradient(ModelPlan plan, LayerPlan layer) =>
        plan.Layers.Any(l => l.Position < layer.Position && l.HasParameters);

    private static string Input(LayerPlan layer) =>
        layer.InputOffset < 0 ? "input" : $"workspace.Slice({layer.InputOffset}, {layer.Input.Length})";

    private static string Output(LayerPlan layer) =>
        layer.OutputOffset < 0 ? "input" : $"workspace.Slice({layer.OutputOffset}, {layer.Output.Length})";

    /// <summary>The scratch argument of a planar convolution (the workspace's shared convolution area), else nothing.</summary>
    private static string Scratch(ModelPlan plan, LayerPlan layer) =>
        layer.Planar ? $", workspace.Slice({plan.ConvScratchOffset}, {plan.ConvScratchLength})" : string.Empty;

    private static string Describe(LayerPlan layer)
    {
        var text = $"{layer.DisplayName} ({layer.KerasName}): {layer.Input} -> {layer.Output}";
        switch (layer.Kind)
        {
            case LayerKind.Conv2D:
                text += $", {layer.KernelSize}x{layer.KernelSize} kernel, stride {layer.Stride}, '{layer.Padding.ToString().ToLowerInvariant()}' padding";
                if (layer.Padding == PaddingKind.Same) text += $" (top {layer.PadTop}, left {layer.PadLeft})";
                break;
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                text += $", {layer.KernelSize}x{layer.KernelSize} window, stride {layer.Stride}";
                break;
        }

        if (layer.Kind is LayerKind.Conv2D or LayerKind.Dense) text += ", " + GeneratedCode.Activation(layer.Activation);
        return text;
    }

    private static void EntryPoints(SourceWriter w, ModelPlan plan)
    {
        var last = plan.Last;
        var n = plan.Output.Length;

        w.Raw("/// <inheritdoc cref=\"global::ModelGen.INetwork.Forward\"/>");
        w.Line($"public void Forward({ReadOnlySpan} input, {Span} workspace, {Span} output)");
        w.OpenBrace();
        w.Line($"{Ops}.CheckForward(input.Length, workspace.Length, output.Length, InputLength, WorkspaceLength, OutputLength);");
        w.Line($"RunForward(Parameters, input, workspace);");
        if (plan.SoftmaxOutput) w.Line($"{Ops}.Softmax({Output(last)}, output);");
        else w.Line($"{Output(last)}.CopyTo(output);");
        w.Close();
        w.Raw();

        w.Raw("/// <inheritdoc cref=\"global::ModelGen.INetwork.ForwardLoss\"/>");
        w.Line($"public float ForwardLoss({ReadOnlySpan} input, int label, {Span} workspace, {Span} output)");
        w.OpenBrace();
        w.Line($"{Ops}.CheckBackward(input.Length, label, workspace.Length, output.Length, ParameterCount, InputLength, WorkspaceLength, OutputLength, ParameterCount);");
        w.Line($"RunForward(Parameters, input, workspace);");
        w.Line($"{Span} scratch = workspace.Slice({plan.GradientScratchOffset}, {n});");
        if (plan.SoftmaxOutput)
        {
            w.Line($"return {Ops}.SoftmaxCrossEntropy({Output(last)}, label, output, scratch);");
        }
        else
        {
            w.Line($"{Output(last)}.CopyTo(output);");
            w.Line($"return {Ops}.LogitsCrossEntropy({Output(last)}, label, scratch);");
        }

        w.Close();
        w.Raw();

        w.Raw("/// <inheritdoc cref=\"global::ModelGen.INetwork.ForwardBackward\"/>");
        w.Line($"public float ForwardBackward({ReadOnlySpan} input, int label, {Span} workspace, {Span} output, {Span} gradient)");
        w.OpenBrace();
        w.Line($"{Ops}.CheckBackward(input.Length, label, workspace.Length, output.Length, gradient.Length, InputLength, WorkspaceLength, OutputLength, ParameterCount);");
        w.Line($"{ReadOnlySpan} parameters = Parameters;");
        w.Raw("RunForward(parameters, input, workspace);");
        w.Raw();
        w.Raw("// Two gradient buffers, used in turn: each layer reads d(loss)/d(output) from one and writes d(loss)/d(input) to the other.");
        w.Line($"{Span} gradientA = workspace.Slice({plan.GradientScratchOffset}, {plan.GradientScratchLength});");
        w.Line($"{Span} gradientB = workspace.Slice({plan.GradientScratchOffset + plan.GradientScratchLength}, {plan.GradientScratchLength});");
        w.Raw();
        if (plan.SoftmaxOutput)
        {
            w.Raw("// Softmax and sparse cross-entropy fused on the logits: loss = logsumexp(z) - z[label], dz = softmax(z) - onehot.");
            w.Line($"float loss = {Ops}.SoftmaxCrossEntropy({Output(last)}, label, output, gradientA.Slice(0, {n}));");
        }
        else
        {
            w.Raw("// The last layer has no softmax: its outputs are taken as logits (Keras from_logits=True).");
            w.Line($"{Output(last)}.CopyTo(output);");
            w.Line($"float loss = {Ops}.LogitsCrossEntropy({Output(last)}, label, gradientA.Slice(0, {n}));");
        }

        var current = "gradientA";
        var other = "gradientB";
        foreach (var layer in plan.Layers.Reverse())
        {
            if (!plan.Layers.Any(l => l.Position <= layer.Position && l.HasParameters)) break; // nothing left to train
            var needsDx = NeedsInputGradient(plan, layer);
            var dy = $"{current}.Slice(0, {layer.Output.Length})";
            var dx = $"{other}.Slice(0, {layer.Input.Length})";
            w.Raw();
            w.Raw("// " + Describe(layer));
            switch (layer.Kind)
            {
                case LayerKind.Flatten:
                    w.Raw("// (a view of the same memory: the gradient passes through unchanged)");
                    continue;
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                    w.Line($"{layer.MemberPrefix}_Backward({Input(layer)}, parameters.Slice({layer.KernelOffset}, {layer.KernelLength}), {Output(layer)}, {dy},");
                    w.Indent();
                    w.Line($"gradient.Slice({layer.KernelOffset}, {layer.KernelLength}), gradient.Slice({layer.BiasOffset}, {layer.BiasLength}){(needsDx ? ", " + dx : string.Empty)}{Scratch(plan, layer)});");
                    w.Outdent();
                    break;
                default:
                    w.Line($"{layer.MemberPrefix}_Backward({Input(layer)}, {dy}, {dx});");
                    break;
            }

            (current, other) = (other, current);
        }

        w.Raw();
        w.Raw("return loss;");
        w.Close();
        w.Raw();

        w.Raw("/// <summary>The forward pass: every layer's output lands in its slice of the workspace.</summary>");
        w.Line($"private static void RunForward({ReadOnlySpan} parameters, {ReadOnlySpan} input, {Span} workspace)");
        w.OpenBrace();
        var first = true;
        foreach (var layer in plan.Layers)
        {
            if (!first) w.Raw();
            first = false;
            w.Raw("// " + Describe(layer));
            switch (layer.Kind)
            {
                case LayerKind.Flatten:
                    w.Raw("// (channels-last order is already flat: the next layer reads the same memory)");
                    break;
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                    w.Line($"{layer.MemberPrefix}_Forward({Input(layer)}, parameters.Slice({layer.KernelOffset}, {layer.KernelLength}), parameters.Slice({layer.BiasOffset}, {layer.BiasLength}), {Output(layer)}{Scratch(plan, layer)});");
                    break;
                default:
                    w.Line($"{layer.MemberPrefix}_Forward({Input(layer)}, {Output(layer)});");
                    break;
            }
        }

        w.Close();
        w.Raw();
    }

    private static void Activate(SourceWriter w, LayerPlan layer, string target)
    {
        switch (layer.Activation)
        {
            case ActivationKind.Tanh: w.Line($"{Ops}.Tanh({target});"); break;
            case ActivationKind.Relu: w.Line($"{Ops}.Relu({target});"); break;
            case ActivationKind.Sigmoid: w.Line($"{Ops}.Sigmoid({target});"); break;
            case ActivationKind.Softmax: w.Raw("// softmax is applied with the loss (training) or by Forward (inference)"); break;
        }
    }

    private static void ActivateBackward(SourceWriter w, LayerPlan layer)
    {
        switch (layer.Activation)
        {
            case ActivationKind.Tanh: w.Line($"{Ops}.TanhBackward(y, dy); // dy *= 1 - y^2"); break;
            case ActivationKind.Relu: w.Line($"{Ops}.ReluBackward(y, dy); // dy *= y > 0"); break;
            case ActivationKind.Sigmoid: w.Line($"{Ops}.SigmoidBackward(y, dy); // dy *= y (1 - y)"); break;
            case ActivationKind.Softmax: w.Raw("// dy already holds d(loss)/d(logits) from the fused softmax cross-entropy"); break;
            default: w.Raw("// no activation: dy is already d(loss)/d(pre-activation)"); break;
        }
    }

    private static void ConvConstants(SourceWriter w, LayerPlan layer)
    {
        // InH is only needed by the bounds checks of padded windows (an unused local constant is a warning).
        if (layer.Padding == PaddingKind.Same) w.Line($"const int InH = {layer.Input.Height}, InW = {layer.Input.Width}, InC = {layer.Input.Channels};");
        else w.Line($"const int InW = {layer.Input.Width}, InC = {layer.Input.Channels};");
        w.Line($"const int OutH = {layer.Output.Height}, OutW = {layer.Output.Width}, OutC = {layer.Output.Channels};");
        w.Line($"const int K = {layer.KernelSize}, Stride = {layer.Stride}, PadTop = {layer.PadTop}, PadLeft = {layer.PadLeft};");
    }

    /// <summary>
    /// Opens the loops over output pixels and computes, for pixel (oy, ox), the input row/column of the window's corner
    /// (iy, ix) and the window columns that fall inside the image [kx0, kx0 + taps / InC).
    /// </summary>
    private static void OpenPixelLoops(SourceWriter w, LayerPlan layer)
    {
        var padded = layer.Padding == PaddingKind.Same && (layer.PadTop > 0 || layer.PadLeft > 0 || NeedsBottomRightPadding(layer));
        w.Raw("for (int oy = 0; oy < OutH; oy++)");
        w.OpenBrace();
        w.Raw("int iy = oy * Stride - PadTop;");
        w.Raw("for (int ox = 0; ox < OutW; ox++)");
        w.OpenBrace();
        w.Raw("int ix = ox * Stride - PadLeft;");
        if (padded)
        {
            w.Raw("// Window columns inside the image; padding contributes zeros and is skipped.");
            w.Raw("int kx0 = ix < 0 ? -ix : 0;");
            w.Raw("int kx1 = ix + K > InW ? InW - ix : K;");
            w.Raw("int taps = (kx1 - kx0) * InC;");
        }
        else
        {
            w.Raw("const int kx0 = 0, taps = K * InC;");
        }
    }

    private static bool NeedsBottomRightPadding(LayerPlan layer) =>
        (layer.Output.Height - 1) * layer.Stride + layer.KernelSize > layer.Input.Height + layer.PadTop
        || (layer.Output.Width - 1) * layer.Stride + layer.KernelSize > layer.Input.Width + layer.PadLeft;

    /// <summary>
    /// Writes the statement(s) for each kernel row ky (input row iy + ky): written out for small kernels, a loop
    /// otherwise. <paramref name="statement"/> receives the input-row and kernel-row expressions.
    /// </summary>
    private static void ForEachKernelRow(SourceWriter w, LayerPlan layer, System.Func<string, string, string> statement)
    {
        var padded = layer.Padding == PaddingKind.Same;
        if (layer.KernelSize <= MaxUnrolledKernel)
        {
            for (var ky = 0; ky < layer.KernelSize; ky++)
            {
                var row = ky == 0 ? "iy" : $"(iy + {ky})";
                var kernelRow = ky.ToString(System.Globalization.CultureInfo.InvariantCulture);
                w.Raw(padded ? $"if ((uint){(ky == 0 ? "iy" : row)} < InH) {statement(row, kernelRow)}" : statement(row, kernelRow));
            }
        }
        else
        {
            w.Raw("for (int ky = 0; ky < K; ky++)");
            w.OpenBrace();
            w.Raw(padded ? "if ((uint)(iy + ky) < InH) " + statement("(iy + ky)", "ky") : statement("(iy + ky)", "ky"));
            w.Close();
        }
    }

    // Kernel rows [ky, kx0..kx1, :, :] are contiguous in the Keras [kh, kw, in, out] layout, as are input rows [iy, ix.., :].
    private static string KernelRow(string ky) => $"({ky} * K + kx0) * InC * OutC, taps * OutC";

    private static string InputRow(string row) => $"({row} * InW + ix + kx0) * InC, taps";

    /// <summary>The layer's shape as a struct of literals, which the JIT folds into ConvKernels' loops.</summary>
    private static void ConvShape(SourceWriter w, LayerPlan layer)
    {
        w.Raw("/// <summary>Shape of " + SourceWriter.Xml(Describe(layer)) + ".</summary>");
        w.Line($"private readonly struct {layer.MemberPrefix}_Shape : global::ModelGen.Cpu.IConvShape");
        w.OpenBrace();
        w.Line($"public static int InHeight => {layer.Input.Height};");
        w.Line($"public static int InWidth => {layer.Input.Width};");
        w.Line($"public static int InChannels => {layer.Input.Channels};");
        w.Line($"public static int OutHeight => {layer.Output.Height};");
        w.Line($"public static int OutWidth => {layer.Output.Width};");
        w.Line($"public static int OutChannels => {layer.Output.Channels};");
        w.Line($"public static int KernelSize => {layer.KernelSize};");
        w.Line($"public static int PadTop => {layer.PadTop};");
        w.Line($"public static int PadLeft => {layer.PadLeft};");
        w.Close();
        w.Raw();
    }

    private static void PlanarConvForward(SourceWriter w, LayerPlan layer)
    {
        ConvShape(w, layer);
        w.Raw("/// <summary>" + SourceWriter.Xml(Describe(layer)) + ". Runs on zero-padded channel planes in <paramref name=\"scratch\"/>.</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Forward({ReadOnlySpan} x, {ReadOnlySpan} kernel, {ReadOnlySpan} bias, {Span} y, {Span} scratch)");
        w.OpenBrace();
        w.Line($"global::ModelGen.Cpu.ConvKernels.Forward<{layer.MemberPrefix}_Shape>(x, kernel, bias, y, scratch);");
        Activate(w, layer, "y");
        w.Close();
        w.Raw();
    }

    private static void PlanarConvBackward(SourceWriter w, LayerPlan layer, bool needsDx)
    {
        w.Raw("/// <summary>Backward of " + SourceWriter.Xml(Describe(layer)) + ". Accumulates into dKernel and dBias" + (needsDx ? "; writes dx" : string.Empty) + ". Overwrites dy.</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Backward({ReadOnlySpan} x, {ReadOnlySpan} kernel, {ReadOnlySpan} y, {Span} dy, {Span} dKernel, {Span} dBias{(needsDx ? $", {Span} dx" : string.Empty)}, {Span} scratch)");
        w.OpenBrace();
        ActivateBackward(w, layer);
        w.Line($"global::ModelGen.Cpu.ConvKernels.Backward<{layer.MemberPrefix}_Shape>(x, kernel, dy, dKernel, dBias, {(needsDx ? "dx" : "default")}, scratch);");
        w.Close();
        w.Raw();
    }

    private static void ConvForward(SourceWriter w, LayerPlan layer)
    {
        if (layer.Planar)
        {
            PlanarConvForward(w, layer);
            return;
        }

        w.Raw("/// <summary>" + SourceWriter.Xml(Describe(layer)) + ".</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Forward({ReadOnlySpan} x, {ReadOnlySpan} kernel, {ReadOnlySpan} bias, {Span} y)");
        w.OpenBrace();
        ConvConstants(w, layer);
        OpenPixelLoops(w, layer);
        w.Raw("var sum = y.Slice((oy * OutW + ox) * OutC, OutC);");
        w.Raw("bias.CopyTo(sum);");
        w.Raw("// One statement per kernel row: sum += x[row, window columns, :] . kernel[row, window columns, :, :]");
        ForEachKernelRow(w, layer, (row, ky) => $"{Ops}.VecMat(x.Slice({InputRow(row)}), kernel.Slice({KernelRow(ky)}), sum);");
        w.Close();
        w.Close();
        Activate(w, layer, "y");
        w.Close();
        w.Raw();
    }

    private static void ConvBackward(SourceWriter w, LayerPlan layer, bool needsDx)
    {
        if (layer.Planar)
        {
            PlanarConvBackward(w, layer, needsDx);
            return;
        }

        w.Raw("/// <summary>Backward of " + SourceWriter.Xml(Describe(layer)) + ". Accumulates into dKernel and dBias" + (needsDx ? "; writes dx" : string.Empty) + ". Overwrites dy.</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Backward({ReadOnlySpan} x, {ReadOnlySpan} kernel, {ReadOnlySpan} y, {Span} dy, {Span} dKernel, {Span} dBias{(needsDx ? $", {Span} dx" : string.Empty)})");
        w.OpenBrace();
        ConvConstants(w, layer);
        ActivateBackward(w, layer);
        if (needsDx) w.Raw("dx.Clear();");
        OpenPixelLoops(w, layer);
        w.Raw("var dz = dy.Slice((oy * OutW + ox) * OutC, OutC);");
        w.Raw($"{Ops}.Add(dz, dBias);");
        w.Raw("// Per kernel row: dKernel[row] += x[row]^T dz" + (needsDx ? "; dx[row] += kernel[row] dz" : string.Empty));
        ForEachKernelRow(w, layer, (row, ky) => $"{Ops}.Outer(x.Slice({InputRow(row)}), dz, dKernel.Slice({KernelRow(ky)}));");
        if (needsDx)
        {
            ForEachKernelRow(w, layer, (row, ky) => $"{Ops}.MatVec(kernel.Slice({KernelRow(ky)}), dz, dx.Slice({InputRow(row)}));");
        }

        w.Close();
        w.Close();
        w.Close();
        w.Raw();
    }

    private static IEnumerable<(int Dy, int Dx)> Window(LayerPlan layer)
    {
        for (var dy = 0; dy < layer.KernelSize; dy++)
        {
            for (var dx = 0; dx < layer.KernelSize; dx++) yield return (dy, dx);
        }
    }

    private static void PoolConstants(SourceWriter w, LayerPlan layer)
    {
        w.Line($"const int InW = {layer.Input.Width}, C = {layer.Input.Channels};");
        // P is only needed when the window is a loop rather than written out.
        if (Unrolled(layer)) w.Line($"const int OutH = {layer.Output.Height}, OutW = {layer.Output.Width}, Stride = {layer.Stride}; // {layer.KernelSize}x{layer.KernelSize} window, written out");
        else w.Line($"const int OutH = {layer.Output.Height}, OutW = {layer.Output.Width}, P = {layer.KernelSize}, Stride = {layer.Stride};");
    }

    private static void OpenPoolLoops(SourceWriter w)
    {
        w.Raw("for (int oy = 0; oy < OutH; oy++)");
        w.OpenBrace();
        w.Raw("for (int ox = 0; ox < OutW; ox++)");
        w.OpenBrace();
        w.Raw("int corner = (oy * Stride * InW + ox * Stride) * C; // window's top-left cell, channel 0");
        w.Raw("int o = (oy * OutW + ox) * C;");
        w.Raw("for (int c = 0; c < C; c++)");
        w.OpenBrace();
    }

    private static bool Unrolled(LayerPlan layer) => layer.KernelSize * layer.KernelSize <= MaxUnrolledPoolCells;

    private static string Cell(int dy, int dx) => $"corner + {(dy == 0 ? string.Empty : $"{dy} * InW * C + ")}{dx} * C + c";

    private static void MaxPoolShape(SourceWriter w, LayerPlan layer)
    {
        w.Raw("/// <summary>Shape of " + SourceWriter.Xml(Describe(layer)) + ".</summary>");
        w.Line($"private readonly struct {layer.MemberPrefix}_Shape : global::ModelGen.Cpu.IPoolShape");
        w.OpenBrace();
        w.Line($"public static int InWidth => {layer.Input.Width};");
        w.Line($"public static int Channels => {layer.Input.Channels};");
        w.Line($"public static int OutHeight => {layer.Output.Height};");
        w.Line($"public static int OutWidth => {layer.Output.Width};");
        w.Line($"public static int PoolSize => {layer.KernelSize};");
        w.Line($"public static int Stride => {layer.Stride};");
        w.Close();
        w.Raw();
    }

    /// <summary>
    /// Max pooling runs in ModelGen.Cpu.PoolKernels, specialised for the layer's shape struct: vectorised over channels
    /// and branch-free (on real data "is this the new maximum?" is a coin flip, and mispredicted branches cost more
    /// than the arithmetic). Average pooling has no such test and is written out here.
    /// </summary>
    private static void PoolForward(SourceWriter w, LayerPlan layer)
    {
        if (layer.Kind == LayerKind.MaxPool2D)
        {
            MaxPoolShape(w, layer);
            w.Raw("/// <summary>" + SourceWriter.Xml(Describe(layer)) + ".</summary>");
            w.Line($"private static void {layer.MemberPrefix}_Forward({ReadOnlySpan} x, {Span} y) =>");
            w.Indent();
            w.Line($"global::ModelGen.Cpu.PoolKernels.MaxForward<{layer.MemberPrefix}_Shape>(x, y);");
            w.Outdent();
            w.Raw();
            return;
        }

        w.Raw("/// <summary>" + SourceWriter.Xml(Describe(layer)) + ".</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Forward({ReadOnlySpan} x, {Span} y)");
        w.OpenBrace();
        PoolConstants(w, layer);
        w.Line($"const float Scale = {SourceWriter.Float(1f / (layer.KernelSize * layer.KernelSize))}; // 1 / (P * P)");
        OpenPoolLoops(w);
        if (Unrolled(layer))
        {
            w.Raw($"float v = x[{Cell(0, 0)}];");
            foreach (var (dy, dx) in Window(layer).Skip(1)) w.Raw($"v += x[{Cell(dy, dx)}];");
        }
        else
        {
            w.Raw("float v = 0f;");
            w.Raw("for (int wy = 0; wy < P; wy++)");
            w.OpenBrace();
            w.Raw("for (int wx = 0; wx < P; wx++) v += x[corner + (wy * InW + wx) * C + c];");
            w.Close();
        }

        w.Raw("y[o + c] = v * Scale;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Raw();
    }

    private static void PoolBackward(SourceWriter w, LayerPlan layer)
    {
        if (layer.Kind == LayerKind.MaxPool2D)
        {
            w.Raw("/// <summary>Backward of " + SourceWriter.Xml(Describe(layer)) + ": the gradient goes to the first maximum of each window, as in TensorFlow.</summary>");
            w.Line($"private static void {layer.MemberPrefix}_Backward({ReadOnlySpan} x, {ReadOnlySpan} dy, {Span} dx) =>");
            w.Indent();
            w.Line($"global::ModelGen.Cpu.PoolKernels.MaxBackward<{layer.MemberPrefix}_Shape>(x, dy, dx);");
            w.Outdent();
            w.Raw();
            return;
        }

        w.Raw("/// <summary>Backward of " + SourceWriter.Xml(Describe(layer)) + ": each window cell gets dy / (P * P).</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Backward({ReadOnlySpan} x, {ReadOnlySpan} dy, {Span} dx)");
        w.OpenBrace();
        PoolConstants(w, layer);
        w.Line($"const float Scale = {SourceWriter.Float(1f / (layer.KernelSize * layer.KernelSize))}; // 1 / (P * P)");
        w.Raw("dx.Clear();");
        OpenPoolLoops(w);
        w.Raw("float share = dy[o + c] * Scale;");
        if (Unrolled(layer))
        {
            foreach (var (dy, dx) in Window(layer)) w.Raw($"dx[{Cell(dy, dx)}] += share;");
        }
        else
        {
            w.Raw("for (int wy = 0; wy < P; wy++)");
            w.OpenBrace();
            w.Raw("for (int wx = 0; wx < P; wx++) dx[corner + (wy * InW + wx) * C + c] += share;");
            w.Close();
        }

        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Raw();
    }

    private static void DenseForward(SourceWriter w, LayerPlan layer)
    {
        w.Raw("/// <summary>" + SourceWriter.Xml(Describe(layer)) + ".</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Forward({ReadOnlySpan} x, {ReadOnlySpan} kernel, {ReadOnlySpan} bias, {Span} y)");
        w.OpenBrace();
        w.Line($"const int In = {layer.Input.Length}, Out = {layer.Size};");
        w.Raw("bias.CopyTo(y);");
        w.Raw($"{Ops}.VecMat(x.Slice(0, In), kernel.Slice(0, In * Out), y.Slice(0, Out)); // y += x . kernel[in, out]");
        Activate(w, layer, "y");
        w.Close();
        w.Raw();
    }

    private static void DenseBackward(SourceWriter w, LayerPlan layer, bool needsDx)
    {
        w.Raw("/// <summary>Backward of " + SourceWriter.Xml(Describe(layer)) + ". Accumulates into dKernel and dBias" + (needsDx ? "; writes dx" : string.Empty) + ". Overwrites dy.</summary>");
        w.Line($"private static void {layer.MemberPrefix}_Backward({ReadOnlySpan} x, {ReadOnlySpan} kernel, {ReadOnlySpan} y, {Span} dy, {Span} dKernel, {Span} dBias{(needsDx ? $", {Span} dx" : string.Empty)})");
        w.OpenBrace();
        w.Line($"const int In = {layer.Input.Length}, Out = {layer.Size};");
        ActivateBackward(w, layer);
        w.Raw($"{Ops}.Add(dy, dBias);");
        w.Raw($"{Ops}.Outer(x.Slice(0, In), dy.Slice(0, Out), dKernel.Slice(0, In * Out)); // dKernel += x^T dy");
        if (needsDx)
        {
            w.Raw("dx.Clear();");
            w.Raw($"{Ops}.MatVec(kernel.Slice(0, In * Out), dy.Slice(0, Out), dx.Slice(0, In)); // dx = kernel dy");
        }

        w.Close();
        w.Raw();
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit;

/// <summary>
/// Emits the ILGPU kernels of a model (file <c>Name.Gpu.g.cs</c>): per layer a batched forward kernel and the backward
/// kernels (activation derivative, parameter gradient, input gradient), the fused softmax cross-entropy, the Adam step
/// and a gather kernel, all static methods with every dimension a constant and float math only. A nested
/// <c>GpuKernels</c> class (a <c>ModelGen.Gpu.GpuKernelSet</c>) loads them and queues them pass by pass.
/// </summary>
/// <remarks>
/// Every kernel is grid-stride (<c>for (i = thread; i &lt; total; i += threads)</c>) so the runtime picks the launch size:
/// the whole element count on a GPU, a few hundred threads on ILGPU's CPU accelerator, which simulates each thread.
/// Each output element has exactly one writer and sums in a fixed order, so results are deterministic and race-free.
/// </remarks>
internal static class GpuEmitter
{
    private const string View = "global::ILGPU.ArrayView<float>";
    private const string IntView = "global::ILGPU.ArrayView<int>";
    private const string Index = "global::ILGPU.Index1D";
    private const string KernelSet = "global::ModelGen.Gpu.GpuKernelSet";
    private const string Batch = "global::ModelGen.Gpu.GpuBatch";
    private const string Accelerator = "global::ILGPU.Runtime.Accelerator";

    /// <summary>Parameter-gradient kernels aim at about this many threads (parameters × batch slices).</summary>
    private const int GradientThreadTarget = 65536;

    /// <summary>Most batch slices a parameter gradient is split into before the fixed-order reduction.</summary>
    private const int MaxSlices = 64;

    public static string Emit(ModelPlan plan)
    {
        var kernels = new List<Kernel>();
        var launches = new Launches();
        Build(plan, kernels, launches);

        var w = new SourceWriter();
        GeneratedCode.Header(w, plan);
        w.Open($"partial class {plan.ClassName} : global::ModelGen.Gpu.IGpuNetwork");

        w.Raw("/// <summary>");
        w.Raw("/// Compiles this network's ILGPU kernels for <paramref name=\"accelerator\"/> (a CUDA GPU, or ILGPU's CPU accelerator in");
        w.Raw("/// tests) and returns them as the passes <see cref=\"global::ModelGen.Gpu.GpuSession\"/> runs.");
        w.Raw("/// </summary>");
        w.Raw($"public static {KernelSet} CreateGpuKernels({Accelerator} accelerator) => new GpuKernels(accelerator);");
        w.Raw();
        w.Raw($"{KernelSet} global::ModelGen.Gpu.IGpuNetwork.CreateGpuKernels({Accelerator} accelerator) => CreateGpuKernels(accelerator);");

        foreach (var kernel in kernels)
        {
            w.Raw();
            kernel.Write(w);
        }

        w.Raw();
        WriteKernelSet(w, plan, kernels, launches);
        w.Close();
        GeneratedCode.Footer(w, plan);
        return w.ToString();
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Plan -> kernels and the launches of each pass

    /// <summary>The statements of each pass of the kernel set, in order.</summary>
    private sealed class Launches
    {
        public List<string> Gather { get; } = new();
        public List<string> Forward { get; } = new();
        public List<string> Loss { get; } = new();
        public List<string> Output { get; } = new();
        public List<string> Backward { get; } = new();
        public List<string> Adam { get; } = new();
        public int ScratchLength { get; set; }
    }

    private static void Build(ModelPlan plan, List<Kernel> kernels, Launches launches)
    {
        var input = plan.Input;
        var gather = GatherKernel(plan);
        kernels.Add(gather);
        launches.Gather.Add("// Gather: the batch's inputs and labels from the data set, in this epoch's order.");
        launches.Gather.AddRange(Launch(gather, $"count * {input.Length}", "count, b.Start, b.Features, b.Labels, b.Order, b.Input, b.BatchLabels"));

        foreach (var layer in plan.Layers)
        {
            var first = launches.Forward.Count == 0;
            if (!first) launches.Forward.Add(string.Empty);
            launches.Forward.Add("// " + Describe(layer));
            switch (layer.Kind)
            {
                case LayerKind.Flatten:
                    launches.Forward.Add("// (channels-last order is already flat: the next layer reads the same memory)");
                    break;
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                {
                    var k = layer.Kind == LayerKind.Conv2D ? ConvForward(layer) : DenseForward(layer);
                    kernels.Add(k);
                    launches.Forward.AddRange(Launch(k, $"count * {layer.Output.Length}", $"count, {InputView(layer)}, {Weights(layer)}, {OutputView(layer)}"));
                    break;
                }

                default:
                {
                    var k = PoolForward(layer);
                    kernels.Add(k);
                    launches.Forward.AddRange(Launch(k, $"count * {layer.Output.Length}", $"count, {InputView(layer)}, {OutputView(layer)}"));
                    break;
                }
            }
        }

        var classes = plan.Output.Length;
        var gradientA = $"b.Region({plan.GradientScratchOffset}, {plan.GradientScratchLength})";
        var gradientB = $"b.Region({plan.GradientScratchOffset + plan.GradientScratchLength}, {plan.GradientScratchLength})";
        var loss = LossKernel(plan);
        kernels.Add(loss);
        launches.Loss.Add(plan.SoftmaxOutput
            ? "// Softmax and sparse cross-entropy fused on the logits, one thread per sample; d(mean loss)/d(logits) goes to gradient buffer A."
            : "// The last layer has no softmax: its outputs are taken as logits (Keras from_logits=True). One thread per sample.");
        launches.Loss.AddRange(Launch(loss, "count", $"count, b.Step, {OutputView(plan.Last)}, b.BatchLabels, b.Output, {gradientA}, b.Losses, b.Correct, b.Status"));

        var output = OutputKernel(plan);
        kernels.Add(output);
        launches.Output.Add(plan.SoftmaxOutput ? "// Softmax of the logits, one thread per sample." : "// The outputs as they are (no softmax layer).");
        launches.Output.AddRange(Launch(output, plan.SoftmaxOutput ? "count" : $"count * {classes}", $"count, {OutputView(plan.Last)}, b.Output"));

        // Backward: the CPU pass's structure, batched. Two gradient buffers (A and B) in the workspace, used in turn.
        var current = gradientA;
        var other = gradientB;
        var currentName = "A";
        var otherName = "B";
        foreach (var layer in plan.Layers.Reverse())
        {
            if (!plan.Layers.Any(l => l.Position <= layer.Position && l.HasParameters)) break; // nothing left to train
            var needsDx = plan.Layers.Any(l => l.Position < layer.Position && l.HasParameters);
            var b = launches.Backward;
            if (b.Count > 0) b.Add(string.Empty);
            b.Add("// " + Describe(layer));
            b.Add($"// d(loss)/d(output) is in gradient buffer {currentName}" + (needsDx && layer.Kind != LayerKind.Flatten ? $"; d(loss)/d(input) goes to buffer {otherName}." : "."));
            switch (layer.Kind)
            {
                case LayerKind.Flatten:
                    b.Add("// (a view of the same memory: the gradient passes through unchanged)");
                    continue;

                case LayerKind.Conv2D:
                case LayerKind.Dense:
                {
                    if (layer.Activation is ActivationKind.Tanh or ActivationKind.Relu or ActivationKind.Sigmoid)
                    {
                        var act = ActivationBackward(layer);
                        kernels.Add(act);
                        b.AddRange(Launch(act, $"count * {layer.Output.Length}", $"count, {OutputView(layer)}, {current}"));
                    }

                    var parameters = layer.ParameterCount;
                    var slices = Slices(parameters);
                    var gradient = $"b.Gradients.SubView({layer.KernelOffset}, {parameters})";
                    var grad = layer.Kind == LayerKind.Conv2D ? ConvParameterGradient(layer, slices) : DenseParameterGradient(layer, slices);
                    kernels.Add(grad);
                    if (slices == 1)
                    {
                        b.AddRange(Launch(grad, parameters.ToString(CultureInfo.InvariantCulture), $"count, {InputView(layer)}, {current}, {gradient}"));
                    }
                    else
                    {
                        var partial = $"b.Scratch.SubView(0, {slices * parameters})";
                        launches.ScratchLength = Math.Max(launches.ScratchLength, slices * parameters);
                        b.AddRange(Launch(grad, (slices * parameters).ToString(CultureInfo.InvariantCulture), $"count, {InputView(layer)}, {current}, {partial}"));
                        var reduce = Reduce(layer, slices);
                        kernels.Add(reduce);
                        b.AddRange(Launch(reduce, parameters.ToString(CultureInfo.InvariantCulture), $"{partial}, {gradient}"));
                    }

                    if (needsDx)
                    {
                        var dx = layer.Kind == LayerKind.Conv2D ? ConvInputGradient(layer) : DenseInputGradient(layer);
                        kernels.Add(dx);
                        b.AddRange(Launch(dx, $"count * {layer.Input.Length}", $"count, {current}, {Weights(layer)}, {other}"));
                    }

                    break;
                }

                default:
                {
                    var dx = PoolInputGradient(layer);
                    kernels.Add(dx);
                    var x = layer.Kind == LayerKind.MaxPool2D ? InputView(layer) + ", " : string.Empty;
                    b.AddRange(Launch(dx, $"count * {layer.Input.Length}", $"count, {x}{current}, {other}"));
                    break;
                }
            }

            (current, other) = (other, current);
            (currentName, otherName) = (otherName, currentName);
        }

        if (plan.ParameterCount > 0)
        {
            var adam = AdamKernel(plan);
            kernels.Add(adam);
            launches.Adam.Add("// Keras's Adam over every parameter; the step's bias-corrected rate comes from the host.");
            launches.Adam.AddRange(Launch(adam, "ParameterCount", "b.Parameters, b.Gradients, b.Moment1, b.Moment2, b.Status, alpha, oneMinusBeta1, oneMinusBeta2, epsilon"));
        }
    }

    /// <summary>How many batch slices the parameter gradient of a layer with <paramref name="parameters"/> parameters is split into.</summary>
    private static int Slices(int parameters) =>
        parameters <= 0 ? 1 : Math.Max(1, Math.Min(MaxSlices, (GradientThreadTarget + parameters - 1) / parameters));

    private static IEnumerable<string> Launch(Kernel kernel, string elements, string arguments)
    {
        yield return $"n = b.Threads({elements});";
        yield return $"{kernel.Field}(n, n, {arguments});";
    }

    private static string InputView(LayerPlan layer) =>
        layer.InputOffset < 0 ? "b.Input" : $"b.Region({layer.InputOffset}, {layer.Input.Length})";

    private static string OutputView(LayerPlan layer) =>
        layer.OutputOffset < 0 ? "b.Input" : $"b.Region({layer.OutputOffset}, {layer.Output.Length})";

    private static string Weights(LayerPlan layer) => $"b.Parameters.SubView({layer.KernelOffset}, {layer.ParameterCount})";

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

    private static string Batched(Shape shape) => shape.IsImage ? $"[count, {shape.Height}, {shape.Width}, {shape.Channels}]" : $"[count, {shape.Length}]";

    // ----------------------------------------------------------------------------------------------------------------
    // The kernel set

    private static void WriteKernelSet(SourceWriter w, ModelPlan plan, List<Kernel> kernels, Launches launches)
    {
        w.Raw("/// <summary>");
        w.Line($"/// The compiled kernels of {SourceWriter.Xml(plan.ClassName)}, queued pass by pass on the accelerator's default stream.");
        w.Raw("/// Views: the workspace region of a layer is b.Region(cpuOffset, floatsPerSample), all Capacity samples one after the other.");
        w.Raw("/// </summary>");
        w.Open($"private sealed class GpuKernels : {KernelSet}");
        foreach (var kernel in kernels) w.Raw($"private readonly {kernel.DelegateType} {kernel.Field};");
        w.Raw();
        w.Open($"public GpuKernels({Accelerator} accelerator)");
        foreach (var kernel in kernels)
        {
            w.Raw($"{kernel.Field} = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<{kernel.TypeArguments}>(accelerator, {kernel.Name});");
        }

        w.Close();
        w.Raw();
        w.Raw("/// <inheritdoc/>");
        w.Line($"public override int ScratchLength => {launches.ScratchLength};");
        Pass(w, "Gather", launches.Gather);
        Pass(w, "Forward", launches.Forward);
        Pass(w, "Loss", launches.Loss);
        Pass(w, "Output", launches.Output);
        Pass(w, "Backward", launches.Backward);
        w.Raw();
        w.Raw("/// <inheritdoc/>");
        w.Open($"public override void AdamStep(in {Batch} b, float alpha, float oneMinusBeta1, float oneMinusBeta2, float epsilon)");
        if (launches.Adam.Count == 0) w.Raw("// The network has no parameters.");
        else WriteStatements(w, launches.Adam, countNeeded: false);
        w.Close();
        w.Close();
    }

    private static void Pass(SourceWriter w, string name, List<string> statements)
    {
        w.Raw();
        w.Raw("/// <inheritdoc/>");
        w.Open($"public override void {name}(in {Batch} b)");
        if (statements.All(s => s.Length == 0 || s.StartsWith("//", StringComparison.Ordinal)))
        {
            foreach (var s in statements) w.Raw(s);
            if (statements.Count == 0) w.Raw("// Nothing to do: no layer has parameters.");
        }
        else
        {
            WriteStatements(w, statements, countNeeded: true);
        }

        w.Close();
    }

    private static void WriteStatements(SourceWriter w, List<string> statements, bool countNeeded)
    {
        if (countNeeded && statements.Any(s => !s.StartsWith("//", StringComparison.Ordinal) && CodeText.ContainsWord(s, "count")))
        {
            w.Raw("int count = b.Count;");
        }

        w.Raw("int n;");
        foreach (var s in statements) w.Raw(s);
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Kernels

    private static Kernel GatherKernel(ModelPlan plan)
    {
        var k = new Kernel("GatherKernel", "_gather");
        k.Summary.Add($"Gathers the batch: input[n, :] = features[order[start + n], :] ({plan.Input.Length} floats, {plan.Input}) and batchLabels[n] = labels[order[start + n]].");
        k.Summary.Add($"One thread per input value ({Batched(plan.Input)}).");
        k.Param("int", "count").Param("int", "start").Param(View, "features").Param(IntView, "labels").Param(IntView, "order").Param(View, "input").Param(IntView, "batchLabels");
        k.Const("Length", plan.Input.Length, "floats per sample");
        k.Line("int total = count * Length;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int n = i / Length;");
        k.Line("int j = i - n * Length;");
        k.Line("int sample = order[start + n];");
        k.Line("input[i] = features[(long)sample * Length + j]; // long: the data set may hold more than 2^31 floats");
        k.Line("if (j == 0) batchLabels[n] = labels[sample];");
        k.Close();
        return k;
    }

    private static void ConvConsts(Kernel k, LayerPlan layer)
    {
        k.Const("InH", layer.Input.Height).Const("InW", layer.Input.Width).Const("InC", layer.Input.Channels);
        k.Const("OutH", layer.Output.Height).Const("OutW", layer.Output.Width).Const("OutC", layer.Output.Channels);
        k.Const("K", layer.KernelSize).Const("Stride", layer.Stride).Const("PadTop", layer.PadTop).Const("PadLeft", layer.PadLeft);
        k.Const("KernelLength", "K * K * InC * OutC", "kernel [K, K, InC, OutC], then bias [OutC], in the weights view");
    }

    /// <summary>Decomposes the flat index <c>i</c> of a [count, H, W, C] tensor into n, y, x, c.</summary>
    private static void Decompose(Kernel k, string h, string wd, string c, string yName, string xName, string cName)
    {
        k.Line($"int {cName} = i % {c};");
        k.Line($"int pixel = i / {c};");
        k.Line($"int {xName} = pixel % {wd};");
        k.Line($"int {yName} = pixel / {wd} % {h};");
        k.Line($"int n = pixel / ({wd} * {h});");
    }

    private static bool Padded(LayerPlan layer) => layer.Padding == PaddingKind.Same;

    private static string Activate(ActivationKind activation, string value) => activation switch
    {
        // tanh(v) = 1 - 2 / (e^(2v) + 1): the CPU path's formula; full float precision on CUDA (PTX's tanh.approx is not).
        ActivationKind.Tanh => $"1f - 2f / (global::System.MathF.Exp(2f * {value}) + 1f)",
        ActivationKind.Relu => $"{value} > 0f ? {value} : 0f",
        ActivationKind.Sigmoid => $"1f / (1f + global::System.MathF.Exp(-{value}))",
        _ => value,
    };

    private static Kernel ConvForward(LayerPlan layer)
    {
        var k = new Kernel($"{layer.MemberPrefix}_ForwardKernel", $"_{Camel(layer.MemberPrefix)}_Forward");
        k.Summary.Add(Describe(layer) + ".");
        k.Summary.Add($"x {Batched(layer.Input)}, weights = kernel [{layer.KernelSize}, {layer.KernelSize}, {layer.Input.Channels}, {layer.Size}] then bias [{layer.Size}], y {Batched(layer.Output)}.");
        k.Summary.Add("One thread per output element: y[n, oy, ox, co] = act(bias[co] + sum over the window and input channels of x * kernel).");
        k.Param("int", "count").Param(View, "x").Param(View, "weights").Param(View, "y");
        ConvConsts(k, layer);
        k.Line("int total = count * (OutH * OutW * OutC);");
        k.Open("for (int i = thread; i < total; i += threads)");
        Decompose(k, "OutH", "OutW", "OutC", "oy", "ox", "co");
        k.Line("float sum = weights[KernelLength + co];");
        k.Open("for (int ky = 0; ky < K; ky++)");
        k.Line("int iy = oy * Stride - PadTop + ky;");
        if (Padded(layer)) k.Line("if (iy < 0 || iy >= InH) continue; // padding contributes zeros");
        k.Open("for (int kx = 0; kx < K; kx++)");
        k.Line("int ix = ox * Stride - PadLeft + kx;");
        if (Padded(layer)) k.Line("if (ix < 0 || ix >= InW) continue;");
        k.Line("int xBase = ((n * InH + iy) * InW + ix) * InC;");
        k.Line("int wBase = (ky * K + kx) * InC * OutC + co;");
        k.Line("for (int ci = 0; ci < InC; ci++) sum += x[xBase + ci] * weights[wBase + ci * OutC];");
        k.Close();
        k.Close();
        k.Line($"y[i] = {Activate(layer.Activation, "sum")};{ActivationComment(layer.Activation)}");
        k.Close();
        return k;
    }

    private static string ActivationComment(ActivationKind activation) => activation switch
    {
        ActivationKind.Tanh => " // tanh",
        ActivationKind.Relu => " // relu",
        ActivationKind.Sigmoid => " // sigmoid",
        ActivationKind.Softmax => " // softmax is applied with the loss (training) or by the output pass (prediction)",
        _ => " // no activation",
    };

    private static Kernel ActivationBackward(LayerPlan layer)
    {
        var k = new Kernel($"{layer.MemberPrefix}_ActivationBackwardKernel", $"_{Camel(layer.MemberPrefix)}_ActivationBackward");
        var rule = layer.Activation switch
        {
            ActivationKind.Tanh => "dy *= 1 - y^2",
            ActivationKind.Relu => "dy *= (y > 0)",
            _ => "dy *= y (1 - y)",
        };
        k.Summary.Add($"Backward of the {GeneratedCode.Activation(layer.Activation)} of {layer.DisplayName} ({layer.KerasName}), in place: {rule}, from the layer's output y.");
        k.Summary.Add($"y and dy {Batched(layer.Output)}; one thread per element.");
        k.Param("int", "count").Param(View, "y").Param(View, "dy");
        k.Const("Length", layer.Output.Length, "floats per sample");
        k.Line("int total = count * Length;");
        k.Open("for (int i = thread; i < total; i += threads)");
        switch (layer.Activation)
        {
            case ActivationKind.Tanh:
                k.Line("float v = y[i];");
                k.Line("dy[i] *= 1f - v * v;");
                break;
            case ActivationKind.Relu:
                k.Line("if (!(y[i] > 0f)) dy[i] = 0f;");
                break;
            default:
                k.Line("float v = y[i];");
                k.Line("dy[i] *= v * (1f - v);");
                break;
        }

        k.Close();
        return k;
    }

    /// <summary>Opens the loop of a parameter-gradient kernel: j = parameter index, samples [first, end) = this thread's batch slice.</summary>
    private static void OpenGradientLoop(Kernel k, int parameters, int slices)
    {
        k.Const("Parameters", parameters, "kernel then bias");
        if (slices == 1)
        {
            k.Open("for (int j = thread; j < Parameters; j += threads)");
            k.Line("const int first = 0;");
            k.Line("int end = count;");
        }
        else
        {
            k.Const("Slices", slices, "batch slices, summed in order by the reduce kernel");
            k.Line("const int total = Slices * Parameters;");
            k.Open("for (int i = thread; i < total; i += threads)");
            k.Line("int j = i % Parameters;");
            k.Line("int slice = i / Parameters;");
            k.Line("int first = count * slice / Slices;");
            k.Line("int end = count * (slice + 1) / Slices;");
        }

        k.Line("float sum = 0f;");
    }

    private static void CloseGradientLoop(Kernel k, int slices)
    {
        k.Line(slices == 1 ? "target[j] = sum;" : "target[i] = sum; // partial sum of slice 'slice': target[slice * Parameters + j]");
        k.Close();
    }

    private static void GradientSummary(Kernel k, LayerPlan layer, int slices)
    {
        k.Summary.Add(slices == 1
            ? $"One thread per parameter ({layer.ParameterCount}) summing over the whole batch; writes the layer's gradient (target = its slice of the gradient buffer)."
            : $"One thread per (batch slice, parameter): {slices} x {layer.ParameterCount}; each writes its slice's partial sum to target [{slices}, {layer.ParameterCount}], which the reduce kernel adds up in slice order.");
        k.Summary.Add("The batch mean comes from d(loss)/d(logits), already scaled by 1/count.");
    }

    private static Kernel ConvParameterGradient(LayerPlan layer, int slices)
    {
        var k = new Kernel($"{layer.MemberPrefix}_ParameterGradientKernel", $"_{Camel(layer.MemberPrefix)}_ParameterGradient");
        k.Summary.Add($"Weight and bias gradients of {Describe(layer)}.");
        k.Summary.Add($"x {Batched(layer.Input)}, dz = d(loss)/d(pre-activation) {Batched(layer.Output)}.");
        k.Summary.Add("dKernel[ky, kx, ci, co] = sum over samples and output pixels of x[n, oy*S - padTop + ky, ox*S - padLeft + kx, ci] * dz[n, oy, ox, co]; dBias[co] = sum of dz[n, oy, ox, co].");
        GradientSummary(k, layer, slices);
        k.Param("int", "count").Param(View, "x").Param(View, "dz").Param(View, "target");
        ConvConsts(k, layer);
        OpenGradientLoop(k, layer.ParameterCount, slices);
        k.Open("if (j < KernelLength)");
        k.Line("int co = j % OutC;");
        k.Line("int ci = j / OutC % InC;");
        k.Line("int kx = j / (OutC * InC) % K;");
        k.Line("int ky = j / (OutC * InC * K);");
        k.Open("for (int n = first; n < end; n++)");
        k.Open("for (int oy = 0; oy < OutH; oy++)");
        k.Line("int iy = oy * Stride - PadTop + ky;");
        if (Padded(layer)) k.Line("if (iy < 0 || iy >= InH) continue;");
        k.Open("for (int ox = 0; ox < OutW; ox++)");
        k.Line("int ix = ox * Stride - PadLeft + kx;");
        if (Padded(layer)) k.Line("if (ix < 0 || ix >= InW) continue;");
        k.Line("sum += x[((n * InH + iy) * InW + ix) * InC + ci] * dz[((n * OutH + oy) * OutW + ox) * OutC + co];");
        k.Close();
        k.Close();
        k.Close();
        k.Close();
        k.Open("else");
        k.Line("int co = j - KernelLength;");
        k.Open("for (int n = first; n < end; n++)");
        k.Line("for (int p = 0; p < OutH * OutW; p++) sum += dz[(n * (OutH * OutW) + p) * OutC + co];");
        k.Close();
        k.Close();
        CloseGradientLoop(k, slices);
        return k;
    }

    private static Kernel Reduce(LayerPlan layer, int slices)
    {
        var k = new Kernel($"{layer.MemberPrefix}_ParameterGradientReduceKernel", $"_{Camel(layer.MemberPrefix)}_ParameterGradientReduce");
        k.Summary.Add($"Adds the {slices} batch-slice partial sums of {layer.DisplayName}'s parameter gradient in slice order (deterministic): gradient[j] = sum over s of partial[s, j].");
        k.Summary.Add($"partial [{slices}, {layer.ParameterCount}], gradient [{layer.ParameterCount}]; one thread per parameter.");
        k.Param(View, "partial").Param(View, "gradient");
        k.Const("Parameters", layer.ParameterCount).Const("Slices", slices);
        k.Open("for (int j = thread; j < Parameters; j += threads)");
        k.Line("float sum = partial[j];");
        k.Line("for (int s = 1; s < Slices; s++) sum += partial[s * Parameters + j];");
        k.Line("gradient[j] = sum;");
        k.Close();
        return k;
    }

    private static Kernel ConvInputGradient(LayerPlan layer)
    {
        var k = new Kernel($"{layer.MemberPrefix}_InputGradientKernel", $"_{Camel(layer.MemberPrefix)}_InputGradient");
        k.Summary.Add($"Input gradient of {Describe(layer)}.");
        k.Summary.Add($"dz {Batched(layer.Output)}, weights = kernel then bias, dx {Batched(layer.Input)}.");
        k.Summary.Add("One thread per input element: dx[n, iy, ix, ci] = sum over the output pixels whose window covers (iy, ix) and over co of dz[n, oy, ox, co] * kernel[ky, kx, ci, co].");
        k.Param("int", "count").Param(View, "dz").Param(View, "weights").Param(View, "dx");
        ConvConsts(k, layer);
        k.Line("int total = count * (InH * InW * InC);");
        k.Open("for (int i = thread; i < total; i += threads)");
        Decompose(k, "InH", "InW", "InC", "iy", "ix", "ci");
        k.Line("float sum = 0f;");
        k.Open("for (int ky = 0; ky < K; ky++)");
        k.Line("int ty = iy + PadTop - ky; // = oy * Stride for the output row whose window row ky is iy");
        k.Line("if (ty < 0) break;");
        if (layer.Stride > 1) k.Line("if (ty % Stride != 0) continue;");
        k.Line("int oy = ty / Stride;");
        k.Line("if (oy >= OutH) continue;");
        k.Open("for (int kx = 0; kx < K; kx++)");
        k.Line("int tx = ix + PadLeft - kx;");
        k.Line("if (tx < 0) break;");
        if (layer.Stride > 1) k.Line("if (tx % Stride != 0) continue;");
        k.Line("int ox = tx / Stride;");
        k.Line("if (ox >= OutW) continue;");
        k.Line("int zBase = ((n * OutH + oy) * OutW + ox) * OutC;");
        k.Line("int wBase = ((ky * K + kx) * InC + ci) * OutC;");
        k.Line("for (int co = 0; co < OutC; co++) sum += dz[zBase + co] * weights[wBase + co];");
        k.Close();
        k.Close();
        k.Line("dx[i] = sum;");
        k.Close();
        return k;
    }

    private static void PoolConsts(Kernel k, LayerPlan layer)
    {
        k.Const("InH", layer.Input.Height).Const("InW", layer.Input.Width).Const("C", layer.Input.Channels);
        k.Const("OutH", layer.Output.Height).Const("OutW", layer.Output.Width);
        k.Const("P", layer.KernelSize, "window side").Const("Stride", layer.Stride);
        if (layer.Kind == LayerKind.AvgPool2D) k.ConstFloat("Scale", 1f / (layer.KernelSize * layer.KernelSize), "1 / (P * P)");
    }

    private static Kernel PoolForward(LayerPlan layer)
    {
        var max = layer.Kind == LayerKind.MaxPool2D;
        var k = new Kernel($"{layer.MemberPrefix}_ForwardKernel", $"_{Camel(layer.MemberPrefix)}_Forward");
        k.Summary.Add(Describe(layer) + ".");
        k.Summary.Add($"x {Batched(layer.Input)}, y {Batched(layer.Output)}; one thread per output element: the {(max ? "largest" : "mean")} value of its window.");
        k.Param("int", "count").Param(View, "x").Param(View, "y");
        PoolConsts(k, layer);
        k.Line("int total = count * (OutH * OutW * C);");
        k.Open("for (int i = thread; i < total; i += threads)");
        Decompose(k, "OutH", "OutW", "C", "oy", "ox", "c");
        k.Line("int corner = ((n * InH + oy * Stride) * InW + ox * Stride) * C + c; // the window's top-left cell");
        k.Line(max ? "float v = x[corner];" : "float v = 0f;");
        k.Open("for (int wy = 0; wy < P; wy++)");
        k.Open("for (int wx = 0; wx < P; wx++)");
        k.Line("float cell = x[corner + (wy * InW + wx) * C];");
        k.Line(max ? "if (cell > v) v = cell;" : "v += cell;");
        k.Close();
        k.Close();
        k.Line(max ? "y[i] = v;" : "y[i] = v * Scale;");
        k.Close();
        return k;
    }

    private static Kernel PoolInputGradient(LayerPlan layer)
    {
        var max = layer.Kind == LayerKind.MaxPool2D;
        var k = new Kernel($"{layer.MemberPrefix}_InputGradientKernel", $"_{Camel(layer.MemberPrefix)}_InputGradient");
        k.Summary.Add($"Input gradient of {Describe(layer)}.");
        k.Summary.Add(max
            ? "One thread per input element: it gathers dy of every window that covers it and whose first maximum (row-major, strict >, as on the CPU and in TensorFlow) it is."
            : "One thread per input element: it gathers dy / (P * P) of every window that covers it.");
        k.Summary.Add($"{(max ? $"x {Batched(layer.Input)}, " : string.Empty)}dy {Batched(layer.Output)}, dx {Batched(layer.Input)}.");
        k.Param("int", "count");
        if (max) k.Param(View, "x");
        k.Param(View, "dy").Param(View, "dx");
        PoolConsts(k, layer);
        k.Line("int total = count * (InH * InW * C);");
        k.Open("for (int i = thread; i < total; i += threads)");
        Decompose(k, "InH", "InW", "C", "iy", "ix", "c");
        k.Line("// Windows covering (iy, ix): oy * Stride <= iy < oy * Stride + P, likewise for ox.");
        k.Line("int oy0 = iy < P ? 0 : (iy - P) / Stride + 1;");
        k.Line("int oy1 = iy / Stride < OutH ? iy / Stride : OutH - 1;");
        k.Line("int ox0 = ix < P ? 0 : (ix - P) / Stride + 1;");
        k.Line("int ox1 = ix / Stride < OutW ? ix / Stride : OutW - 1;");
        k.Line("float sum = 0f;");
        k.Open("for (int oy = oy0; oy <= oy1; oy++)");
        k.Open("for (int ox = ox0; ox <= ox1; ox++)");
        k.Line("int o = ((n * OutH + oy) * OutW + ox) * C + c;");
        if (max)
        {
            k.Line("int corner = ((n * InH + oy * Stride) * InW + ox * Stride) * C + c;");
            k.Line("int best = 0;");
            k.Line("float bestValue = x[corner];");
            k.Open("for (int wy = 0; wy < P; wy++)");
            k.Open("for (int wx = 0; wx < P; wx++)");
            k.Line("float cell = x[corner + (wy * InW + wx) * C];");
            k.Open("if (cell > bestValue)");
            k.Line("bestValue = cell;");
            k.Line("best = wy * P + wx;");
            k.Close();
            k.Close();
            k.Close();
            k.Line("if (best == (iy - oy * Stride) * P + (ix - ox * Stride)) sum += dy[o];");
        }
        else
        {
            k.Line("sum += dy[o] * Scale;");
        }

        k.Close();
        k.Close();
        k.Line("dx[i] = sum;");
        k.Close();
        return k;
    }

    private static void DenseConsts(Kernel k, LayerPlan layer)
    {
        k.Const("In", layer.Input.Length).Const("Out", layer.Size);
        k.Const("KernelLength", "In * Out", "kernel [In, Out], then bias [Out], in the weights view");
    }

    private static Kernel DenseForward(LayerPlan layer)
    {
        var k = new Kernel($"{layer.MemberPrefix}_ForwardKernel", $"_{Camel(layer.MemberPrefix)}_Forward");
        k.Summary.Add(Describe(layer) + ".");
        k.Summary.Add($"x [count, {layer.Input.Length}], weights = kernel [{layer.Input.Length}, {layer.Size}] then bias [{layer.Size}], y [count, {layer.Size}].");
        k.Summary.Add("One thread per output element: y[n, o] = act(bias[o] + sum over k of x[n, k] * kernel[k, o]).");
        k.Param("int", "count").Param(View, "x").Param(View, "weights").Param(View, "y");
        DenseConsts(k, layer);
        k.Line("int total = count * Out;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int o = i % Out;");
        k.Line("int xBase = i / Out * In;");
        k.Line("float sum = weights[KernelLength + o];");
        k.Line("for (int k = 0; k < In; k++) sum += x[xBase + k] * weights[k * Out + o];");
        k.Line($"y[i] = {Activate(layer.Activation, "sum")};{ActivationComment(layer.Activation)}");
        k.Close();
        return k;
    }

    private static Kernel DenseParameterGradient(LayerPlan layer, int slices)
    {
        var k = new Kernel($"{layer.MemberPrefix}_ParameterGradientKernel", $"_{Camel(layer.MemberPrefix)}_ParameterGradient");
        k.Summary.Add($"Weight and bias gradients of {Describe(layer)}.");
        k.Summary.Add($"x [count, {layer.Input.Length}], dz = d(loss)/d(pre-activation) [count, {layer.Size}].");
        k.Summary.Add("dKernel[k, o] = sum over samples of x[n, k] * dz[n, o]; dBias[o] = sum over samples of dz[n, o].");
        GradientSummary(k, layer, slices);
        k.Param("int", "count").Param(View, "x").Param(View, "dz").Param(View, "target");
        DenseConsts(k, layer);
        OpenGradientLoop(k, layer.ParameterCount, slices);
        k.Open("if (j < KernelLength)");
        k.Line("int o = j % Out;");
        k.Line("int k = j / Out;");
        k.Line("for (int n = first; n < end; n++) sum += x[n * In + k] * dz[n * Out + o];");
        k.Close();
        k.Open("else");
        k.Line("int o = j - KernelLength;");
        k.Line("for (int n = first; n < end; n++) sum += dz[n * Out + o];");
        k.Close();
        CloseGradientLoop(k, slices);
        return k;
    }

    private static Kernel DenseInputGradient(LayerPlan layer)
    {
        var k = new Kernel($"{layer.MemberPrefix}_InputGradientKernel", $"_{Camel(layer.MemberPrefix)}_InputGradient");
        k.Summary.Add($"Input gradient of {Describe(layer)}.");
        k.Summary.Add($"dz [count, {layer.Size}], weights = kernel then bias, dx [count, {layer.Input.Length}].");
        k.Summary.Add("One thread per input element: dx[n, k] = sum over o of kernel[k, o] * dz[n, o].");
        k.Param("int", "count").Param(View, "dz").Param(View, "weights").Param(View, "dx");
        k.Const("In", layer.Input.Length).Const("Out", layer.Size);
        k.Line("int total = count * In;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int k = i % In;");
        k.Line("int zBase = i / In * Out;");
        k.Line("float sum = 0f;");
        k.Line("for (int o = 0; o < Out; o++) sum += weights[k * Out + o] * dz[zBase + o];");
        k.Line("dx[i] = sum;");
        k.Close();
        return k;
    }

    private static Kernel LossKernel(ModelPlan plan)
    {
        var k = new Kernel("LossKernel", "_loss");
        k.Summary.Add(plan.SoftmaxOutput
            ? "Softmax and sparse categorical cross-entropy fused on the logits (log-sum-exp, no clipping): loss = logsumexp(z) - z[label]."
            : "Sparse categorical cross-entropy on the last layer's outputs taken as logits (no softmax layer): loss = logsumexp(z) - z[label].");
        k.Summary.Add($"logits [count, {plan.Output.Length}] -> output [count, {plan.Output.Length}] ({(plan.SoftmaxOutput ? "probabilities" : "the logits")}), dLogits = (softmax(z) - onehot) / count, losses [count], correct [count].");
        k.Summary.Add("One thread per sample. A loss that is not finite records this step in status[0] (first one wins), which stops the Adam steps.");
        k.Param("int", "count").Param("int", "step").Param(View, "logits").Param(IntView, "labels").Param(View, "output").Param(View, "dLogits")
            .Param(View, "losses").Param(IntView, "correct").Param(IntView, "status");
        k.Const("Classes", plan.Output.Length);
        k.Line("float scale = 1f / count; // the batch mean");
        k.Open("for (int n = thread; n < count; n += threads)");
        k.Line("int b = n * Classes;");
        k.Line("float largest = logits[b];");
        k.Line("for (int c = 1; c < Classes; c++) largest = global::System.MathF.Max(largest, logits[b + c]);");
        k.Line("float sum = 0f;");
        k.Line("for (int c = 0; c < Classes; c++) sum += global::System.MathF.Exp(logits[b + c] - largest);");
        k.Line("float logSum = global::System.MathF.Log(sum);");
        k.Line("int label = labels[n];");
        k.Line("int best = 0;");
        k.Line("float bestValue = 0f;");
        k.Open("for (int c = 0; c < Classes; c++)");
        k.Line("float p = global::System.MathF.Exp(logits[b + c] - largest - logSum);");
        k.Line(plan.SoftmaxOutput ? "float value = p;" : "float value = logits[b + c];");
        k.Line("output[b + c] = value;");
        k.Line("dLogits[b + c] = (c == label ? p - 1f : p) * scale;");
        k.Open("if (c == 0 || value > bestValue)");
        k.Line("best = c;");
        k.Line("bestValue = value;");
        k.Close();
        k.Close();
        k.Line("float loss = logSum + largest - logits[b + label];");
        k.Line("losses[n] = loss;");
        k.Line("correct[n] = best == label ? 1 : 0;");
        k.Line("if (!(loss <= float.MaxValue)) global::ILGPU.Atomic.CompareExchange(ref status[0], 0, step); // NaN or infinity");
        k.Close();
        return k;
    }

    private static Kernel OutputKernel(ModelPlan plan)
    {
        var k = new Kernel("OutputKernel", "_output");
        k.Param("int", "count").Param(View, "logits").Param(View, "output");
        k.Const("Classes", plan.Output.Length);
        if (plan.SoftmaxOutput)
        {
            k.Summary.Add($"The network's outputs for prediction: softmax of the logits [count, {plan.Output.Length}] (stable: the largest logit is subtracted first).");
            k.Summary.Add("One thread per sample.");
            k.Open("for (int n = thread; n < count; n += threads)");
            k.Line("int b = n * Classes;");
            k.Line("float largest = logits[b];");
            k.Line("for (int c = 1; c < Classes; c++) largest = global::System.MathF.Max(largest, logits[b + c]);");
            k.Line("float sum = 0f;");
            k.Open("for (int c = 0; c < Classes; c++)");
            k.Line("float e = global::System.MathF.Exp(logits[b + c] - largest);");
            k.Line("output[b + c] = e;");
            k.Line("sum += e;");
            k.Close();
            k.Line("float inverse = 1f / sum;");
            k.Line("for (int c = 0; c < Classes; c++) output[b + c] *= inverse;");
            k.Close();
        }
        else
        {
            k.Summary.Add($"The network's outputs for prediction: the last layer's values [count, {plan.Output.Length}] as they are.");
            k.Summary.Add("One thread per value.");
            k.Line("int total = count * Classes;");
            k.Line("for (int i = thread; i < total; i += threads) output[i] = logits[i];");
        }

        return k;
    }

    private static Kernel AdamKernel(ModelPlan plan)
    {
        var k = new Kernel("AdamKernel", "_adam");
        k.Summary.Add($"One Adam step over all {plan.ParameterCount} parameters with Keras's formula, as the CPU's Adam.Step computes it:");
        k.Summary.Add("m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2); w -= alpha m / (sqrt(v) + epsilon), alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) from the host.");
        k.Summary.Add("One thread per parameter. Skipped while status[0] != 0 (a non-finite loss), so the weights from before it are kept.");
        k.Param(View, "parameters").Param(View, "gradients").Param(View, "m").Param(View, "v").Param(IntView, "status")
            .Param("float", "alpha").Param("float", "oneMinusBeta1").Param("float", "oneMinusBeta2").Param("float", "epsilon");
        k.Line("if (status[0] != 0) return;");
        k.Open("for (int i = thread; i < ParameterCount; i += threads)");
        k.Line("float g = gradients[i];");
        k.Line("float mi = m[i] + (g - m[i]) * oneMinusBeta1;");
        k.Line("float vi = v[i] + (g * g - v[i]) * oneMinusBeta2;");
        k.Line("m[i] = mi;");
        k.Line("v[i] = vi;");
        k.Line("parameters[i] -= mi * alpha / (global::System.MathF.Sqrt(vi) + epsilon);");
        k.Close();
        return k;
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name.Substring(1);

    /// <summary>
    /// One kernel method: parameters after (thread, threads), local constants (only those the body uses are written, since
    /// an unused local constant is a warning), and the body.
    /// </summary>
    private sealed class Kernel
    {
        private readonly List<(string Type, string Name)> _parameters = new();
        private readonly List<(string Name, string Value, string? Comment)> _constants = new();
        private readonly SourceWriter _body = new();

        public Kernel(string name, string field)
        {
            Name = name;
            Field = field;
        }

        public string Name { get; }

        public string Field { get; }

        public List<string> Summary { get; } = new();

        public string TypeArguments => string.Join(", ", new[] { Index, "int" }.Concat(_parameters.Select(p => p.Type)));

        public string DelegateType => $"global::System.Action<{TypeArguments}>";

        public Kernel Param(string type, string name)
        {
            _parameters.Add((type, name));
            return this;
        }

        public Kernel Const(string name, long value, string? comment = null) =>
            Const(name, value.ToString(CultureInfo.InvariantCulture), comment);

        public Kernel Const(string name, string value, string? comment = null)
        {
            _constants.Add((name, value, comment));
            return this;
        }

        public Kernel ConstFloat(string name, float value, string? comment = null)
        {
            _constants.Add((name, SourceWriter.Float(value), comment));
            return this;
        }

        public void Line(string line) => _body.Raw(line);

        public void Open(string header) => _body.OpenRaw(header);

        public void Close() => _body.Close();

        public void Write(SourceWriter w)
        {
            w.Raw("/// <summary>");
            foreach (var line in Summary) w.Raw("/// " + SourceWriter.Xml(line));
            w.Raw("/// </summary>");
            var parameters = string.Join(", ", new[] { $"{Index} thread", "int threads" }.Concat(_parameters.Select(p => $"{p.Type} {p.Name}")));
            w.Raw($"private static void {Name}({parameters})");
            w.OpenBrace();
            var body = _body.ToString().TrimEnd('\n').Split('\n');
            foreach (var (name, value, comment) in UsedConstants(body))
            {
                w.Raw($"const {(value.EndsWith("f", StringComparison.Ordinal) ? "float" : "int")} {name} = {value};{(comment is null ? string.Empty : " // " + comment)}");
            }

            foreach (var line in body) w.Raw(line);
            w.Close();
        }

        /// <summary>The constants the code uses, directly or through another used constant, in declaration order.</summary>
        private IEnumerable<(string Name, string Value, string? Comment)> UsedConstants(string[] body)
        {
            var code = string.Join("\n", body.Select(StripComment));
            var used = new HashSet<string>(_constants.Where(c => Uses(code, c.Name)).Select(c => c.Name));
            bool added;
            do
            {
                added = false;
                foreach (var c in _constants)
                {
                    if (!used.Contains(c.Name)) continue;
                    foreach (var other in _constants)
                    {
                        if (!used.Contains(other.Name) && Uses(c.Value, other.Name)) added |= used.Add(other.Name);
                    }
                }
            }
            while (added);

            return _constants.Where(c => used.Contains(c.Name));
        }

        private static bool Uses(string code, string name) => CodeText.ContainsWord(code, name);

        private static string StripComment(string line)
        {
            var at = line.IndexOf("//", StringComparison.Ordinal);
            return at < 0 ? line : line.Substring(0, at);
        }
    }
}

using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Emit;

/// <summary>
/// Emits the ILGPU kernels of a plan (file <c>Name.Gpu.g.cs</c>), only for compilations that reference ModelGen.Gpu: the
/// model class implements <c>ModelGen.Gpu.CompilerServices.IGpuKernelSource</c> explicitly, returning a private nested
/// <c>GpuKernels</c> (a <c>GpuKernelSet</c>) whose <c>Forward</c>/<c>Backward</c> queue one kernel launch per layer and
/// direction on buffers named and placed exactly as in the CPU passes.
/// </summary>
/// <remarks>
/// <para>
/// One template per operation: the convolution's forward, parameter gradient and input gradient (Dense is the same
/// template on a 1 × 1 image, as on the CPU), pooling forward and backward (max and average), the activation's
/// backward. Each layer's kernels are static methods of a nested class whose constants are the layer's dimensions.
/// Everything that does not depend on the shapes (gather, loss, softmax, Adam, the slice reduction, copies) is
/// ModelGen.Gpu's own.
/// </para>
/// <para>
/// Every kernel is grid-stride (<c>for (i = thread; i &lt; total; i += threads)</c>), so the runtime picks the launch
/// size. Each output element has one writer that sums in a fixed order: deterministic, and no atomics. A layer's
/// parameter gradient is split into the plan's <see cref="LayerPlan.GpuGradientSlices"/> batch slices whose partial
/// sums the runtime adds in slice order.
/// </para>
/// </remarks>
internal static partial class GpuEmitter
{
    /// <summary>The type whose presence in the compilation (ModelGen.Gpu referenced) makes the generator emit GPU code.</summary>
    public const string KernelSourceMetadataName = "ModelGen.Gpu.CompilerServices.IGpuKernelSource";

    /// <summary>The version of ModelGen.Gpu's contract (ModelGen.Gpu.CompilerServices.GpuKernelSet.ContractVersion) this emitter writes for.</summary>
    public const int GpuContractVersion = 2;

    /// <summary>The nested kernel set.</summary>
    public const string KernelsClass = "GpuKernels";

    private const string Gpu = "global::ModelGen.Gpu.CompilerServices";
    private const string KernelSource = Gpu + ".IGpuKernelSource";
    private const string KernelSet = Gpu + ".GpuKernelSet";
    private const string Batch = Gpu + ".GpuBatch";
    private const string Accelerator = "global::ILGPU.Runtime.Accelerator";
    private const string View = "global::ILGPU.ArrayView<float>";
    private const string Index = "global::ILGPU.Index1D";
    private const string Activations = "global::ModelGen.CompilerServices.Activations";

    public static string Emit(ModelPlan plan)
    {
        var layers = plan.Layers.Select(Build).ToList();

        var w = new SourceWriter();
        GeneratedCode.Header(w, plan);
        w.Open($"partial class {plan.ClassName} : {KernelSource}");
        w.Raw($"{KernelSet} {KernelSource}.CreateGpuKernels({Accelerator} accelerator) => new {KernelsClass}(accelerator);");
        w.Raw();
        w.Raw("/// <summary>");
        w.Line($"/// The ILGPU kernels of {SourceWriter.Xml(plan.ClassName)}, batch-major like the CPU passes: one launch per layer and direction over");
        w.Raw("/// every sample of a pass, on buffers named and laid out as in CpuPasses (conv2d_out is the output of conv2d,");
        w.Raw("/// conv2d_grad_out its gradient, each [N, ...] for the pass's N samples). Each layer's kernels are the static methods");
        w.Raw("/// of a nested class whose constants are that layer's dimensions.");
        w.Raw("/// </summary>");
        w.OpenRaw($"private sealed class {KernelsClass} : {KernelSet}");
        w.Raw("/// <summary>Floats per sample of the workspace's layer area: activations, then their gradients (as in CpuPasses).</summary>");
        w.Line($"private const int LayerFloatsPerSample = {plan.BufferFloatsPerSample};");
        w.Raw();
        w.Raw("/// <summary>Floats of parameter-gradient partial sums: the largest layer's batch slices × its parameters.</summary>");
        w.Line($"private const int GpuScratchLength = {plan.GpuScratchLength};");
        w.Raw();
        w.Raw("/// <summary>Floats of the workspace's pass area after the layer area (batch statistics), as in CpuPasses.</summary>");
        w.Line($"private const int PassAreaFloats = {plan.PassFloats};");
        w.Raw();
        foreach (var kernel in layers.SelectMany(l => l.Kernels))
        {
            w.Raw($"private readonly {kernel.DelegateType} {kernel.Field};");
        }

        if (layers.Any(l => l.Kernels.Count > 0)) w.Raw();
        w.Raw("/// <summary>Compiles the kernels for <paramref name=\"accelerator\"/>.</summary>");
        w.Line($"public {KernelsClass}({Accelerator} accelerator)");
        w.Indent();
        w.Line($": base(contractVersion: {GpuContractVersion}, LayerFloatsPerSample, GpuScratchLength, PassAreaFloats)");
        w.Outdent();
        w.OpenBrace();
        foreach (var kernel in layers.SelectMany(l => l.Kernels))
        {
            w.Raw($"{kernel.Field} = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<{kernel.TypeArguments}>(accelerator, {kernel.Owner}.{kernel.Name});");
        }

        if (!layers.Any(l => l.Kernels.Count > 0)) w.Raw("// No layer computes anything: the network only re-interprets its input.");
        w.Close();
        w.Raw();
        Buffers(w, plan);
        Weights(w, plan, gradients: false);
        if (plan.Trainable) Weights(w, plan, gradients: true);
        Forward(w, plan, layers);
        Backward(w, plan, layers);
        UpdateStatistics(w, layers);
        foreach (var layer in layers.Where(l => l.Kernels.Count > 0))
        {
            w.Raw();
            LayerClass(w, layer);
        }

        w.Close();
        w.Close();
        GeneratedCode.Footer(w, plan);
        return w.ToString();
    }

    // ----------------------------------------------------------------------------------------------------------------
    // The kernel set: buffers, views and the two passes

    private static void Buffers(SourceWriter w, ModelPlan plan)
    {
        w.Raw("/// <summary>The buffers of one pass, each [capacity, ...] floats of the device workspace, placed as in CpuPasses.</summary>");
        w.Raw("private readonly struct Buffers");
        w.OpenBrace();
        GeneratedCode.BufferFields(w, plan, View, "Partial sums of the parameter gradients, [slices, layer parameters].");
        w.Raw();
        w.Line($"public Buffers(in {Batch} batch)");
        w.OpenBrace();
        w.Line($"{ContractBuffers.Input} = batch.Input;");
        w.Line($"{ContractBuffers.Logits} = batch.Logits;");
        w.Line($"{ContractBuffers.LogitsGradient} = batch.LogitsGradient;");
        foreach (var b in plan.Buffers) w.Line($"{b.Identifier} = batch.Region({b.OffsetPerSample}, {b.PerSample});");
        foreach (var b in plan.PassBuffers) w.Line($"{b.Identifier} = batch.PassArea({b.Offset}, {b.Length});");
        w.Raw("scratch = batch.Scratch;");
        w.Close();
        w.Close();
        w.Raw();
    }

    private static void Weights(SourceWriter w, ModelPlan plan, bool gradients)
    {
        var type = gradients ? "WeightGradients" : "Weights";
        w.Raw(gradients
            ? "/// <summary>The gradients of the trainable parameters: views of the gradient buffer at the parameters' offsets.</summary>"
            : "/// <summary>The parameter tensors, in Keras layouts: views of the parameter buffer.</summary>");
        w.Raw($"private readonly struct {type}");
        w.OpenBrace();
        var tensors = (gradients ? plan.TrainableParameters : plan.Parameters).ToList();
        foreach (var t in tensors)
        {
            w.Line($"/// <summary>{(gradients ? "d(loss)/d(" + t.KerasName + ")" : t.KerasName)}, [{string.Join(", ", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}].</summary>");
            w.Line($"public readonly {View} {(gradients ? t.GradientIdentifier : t.Identifier)};");
            w.Raw();
        }

        w.Line($"public {type}({View} all)");
        w.OpenBrace();
        foreach (var t in tensors) w.Line($"{(gradients ? t.GradientIdentifier : t.Identifier)} = all.SubView({t.Offset}, {t.Length});");
        w.Close();
        w.Close();
        w.Raw();
    }

    private static void Forward(SourceWriter w, ModelPlan plan, List<LayerKernels> layers)
    {
        w.Raw("/// <inheritdoc/>");
        w.Line($"public override void Forward(in {Batch} batch)");
        w.OpenBrace();
        w.Raw("var b = new Buffers(batch);");
        if (plan.ParameterCount > 0) w.Raw("var p = new Weights(batch.Parameters);");
        w.Raw("int count = batch.Count;");
        if (layers.Any(l => l.Forward is not null)) w.Raw("int n;");
        foreach (var layer in layers)
        {
            var plan1 = layer.Plan;
            w.Raw();
            w.Raw("// " + GeneratedCode.Describe(plan1, batched: true));
            var x = "b." + plan1.InputBuffer;
            var y = "b." + plan1.OutputBuffer;
            switch (plan1.Kind)
            {
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                    if (plan1.Activation == ActivationKind.Softmax) w.Raw("// (softmax is applied with the loss in training, and by PredictBatch)");
                    Launch(w, layer.Forward!, $"count * {layer.Class}.OutputFloats", $"count, {x}, p.{plan1.Kernel!.Identifier}, p.{plan1.Bias!.Identifier}, {y}");
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    Launch(w, layer.Forward!, $"count * {layer.Class}.OutputFloats", $"count, {x}, {y}");
                    break;
                case LayerKind.Flatten when plan1.OutputBuffer == plan1.InputBuffer:
                    w.Line($"// (channels last is already flat: the next layer reads {plan1.InputBuffer})");
                    break;
                case LayerKind.Flatten:
                    w.Line($"batch.Copy({x}, {y}, (long)count * {plan1.Input.Length});");
                    break;
                default:
                    ForwardOfModeLayer(w, layer, x, y);
                    break;
            }
        }

        w.Close();
        w.Raw();
    }

    private static void Backward(SourceWriter w, ModelPlan plan, List<LayerKernels> layers)
    {
        w.Raw("/// <inheritdoc/>");
        w.Line($"public override void Backward(in {Batch} batch)");
        w.OpenBrace();
        var running = layers.Where(l => l.Plan.RunsBackward).Reverse().ToList();
        if (running.Count == 0)
        {
            w.Raw("// The network has no parameters: there is nothing to compute.");
            w.Close();
            return;
        }

        w.Raw("var b = new Buffers(batch);");
        if (running.Any(l => l.InputGradient is not null)) w.Raw("var p = new Weights(batch.Parameters);");
        w.Raw("var g = new WeightGradients(batch.Gradients);");
        w.Raw("int count = batch.Count;");
        if (running.Any(l => l.LaunchesBackward)) w.Raw("int n;");
        foreach (var layer in running)
        {
            var l = layer.Plan;
            w.Raw();
            w.Raw("// " + GeneratedCode.Describe(l, batched: true));
            var x = "b." + l.InputBuffer;
            var y = "b." + l.OutputBuffer;
            var dy = "b." + l.OutputGradientBuffer;
            var dx = l.InputGradientBuffer is { } grad ? "b." + grad : null;
            switch (l.Kind)
            {
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                    if (layer.ActivationBackward is { } activation)
                    {
                        Launch(w, activation, $"count * {layer.Class}.OutputFloats", $"count, {y}, {dy}", ActivationRule(l.Activation));
                    }
                    else if (l.Activation == ActivationKind.Softmax)
                    {
                        w.Raw("// (d(loss)/d(logits) already includes the softmax: it was computed with the loss)");
                    }

                    var gradient = $"g.{l.Kernel!.GradientIdentifier}, g.{l.Bias!.GradientIdentifier}";
                    if (l.GpuGradientSlices == 1)
                    {
                        Launch(w, layer.ParameterGradient!, $"{layer.Class}.LayerParameters", $"count, {x}, {dy}, {gradient}");
                    }
                    else
                    {
                        Launch(w, layer.ParameterGradient!, $"{layer.Class}.GradientSlices * {layer.Class}.LayerParameters", $"count, {x}, {dy}, b.scratch",
                            "partial sums per batch slice");
                        w.Line($"batch.ReduceSlices({layer.Class}.GradientSlices, {gradient}); // added in slice order");
                    }

                    if (layer.InputGradient is { } input)
                    {
                        Launch(w, input, $"count * {layer.Class}.InputFloats", $"count, {dy}, p.{l.Kernel.Identifier}, {dx}");
                    }
                    else
                    {
                        w.Raw("// (no layer before this one has parameters: d(loss)/d(input) is not needed)");
                    }

                    break;
                case LayerKind.MaxPool2D:
                    Launch(w, layer.Backward!, $"count * {layer.Class}.InputFloats", $"count, {x}, {dy}, {dx}");
                    break;
                case LayerKind.AvgPool2D:
                    Launch(w, layer.Backward!, $"count * {layer.Class}.InputFloats", $"count, {dy}, {dx}");
                    break;
                case LayerKind.Flatten when l.OutputGradientBuffer == l.InputGradientBuffer:
                    w.Raw("// (a view of the same memory: the gradient passes through unchanged)");
                    break;
                case LayerKind.Flatten:
                    w.Line($"batch.Copy({dy}, {dx}, (long)count * {l.Input.Length});");
                    break;
                default:
                    BackwardOfModeLayer(w, layer, x, dy, dx);
                    break;
            }
        }

        w.Close();
    }

    private static void Launch(SourceWriter w, Kernel kernel, string elements, string arguments, string? comment = null)
    {
        w.Raw($"n = batch.Threads((long){elements});");
        w.Raw($"{kernel.Field}(n, n, {arguments});" + (comment is null ? string.Empty : " // " + comment));
    }

    private static string ActivationRule(ActivationKind activation) => activation switch
    {
        ActivationKind.Tanh => "dy *= 1 - y²",
        ActivationKind.Relu => "dy *= (y > 0)",
        _ => "dy *= y (1 - y)",
    };

    // ----------------------------------------------------------------------------------------------------------------
    // Per layer: its class of constants and kernels

    /// <summary>The kernels of one layer (those it needs), in the nested class <see cref="Class"/>.</summary>
    private sealed class LayerKernels
    {
        public LayerKernels(LayerPlan plan)
        {
            Plan = plan;
            Class = plan.MemberPrefix + "_Gpu";
        }

        public LayerPlan Plan { get; }

        public string Class { get; }

        public Kernel? Forward { get; set; }

        public Kernel? ActivationBackward { get; set; }

        public Kernel? ParameterGradient { get; set; }

        public Kernel? InputGradient { get; set; }

        /// <summary>A pooling layer's input gradient.</summary>
        public Kernel? Backward { get; set; }

        /// <summary>BatchNormalization's further kernels (statistics, their gradient, the moving update), by name.</summary>
        public List<Kernel> Others { get; } = new();

        public Kernel Other(string name) => Others.Single(k => k.Name == name);

        public List<Kernel> Kernels => new[] { Forward, ActivationBackward, ParameterGradient, InputGradient, Backward }
            .Where(k => k is not null).Select(k => k!).Concat(Others).ToList();

        public bool LaunchesBackward => ActivationBackward is not null || ParameterGradient is not null || InputGradient is not null || Backward is not null
            || (Plan.Kind == LayerKind.BatchNormalization && Plan.RunsBackward);
    }

    private static LayerKernels Build(LayerPlan layer)
    {
        var kernels = new LayerKernels(layer);
        switch (layer.Kind)
        {
            case LayerKind.Conv2D:
            case LayerKind.Dense:
                kernels.Forward = ConvForward(kernels);
                if (!layer.RunsBackward) break;
                if (layer.Activation is ActivationKind.Tanh or ActivationKind.Relu or ActivationKind.Sigmoid) kernels.ActivationBackward = ActivationBackward(kernels);
                kernels.ParameterGradient = ConvParameterGradient(kernels);
                if (layer.NeedsInputGradient) kernels.InputGradient = ConvInputGradient(kernels);
                break;
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                kernels.Forward = PoolForward(kernels);
                if (layer.RunsBackward && layer.NeedsInputGradient) kernels.Backward = PoolBackward(kernels);
                break;
            case LayerKind.BatchNormalization:
            case LayerKind.Dropout:
            case LayerKind.GlobalAveragePooling2D:
                BuildModeLayer(kernels);
                break;
        }

        return kernels;
    }

    /// <summary>A convolution's geometry; a dense layer is the 1 × 1 convolution of a 1 × 1 image with Inputs channels.</summary>
    private readonly struct Geometry
    {
        public Geometry(LayerPlan layer)
        {
            if (layer.Kind == LayerKind.Dense)
            {
                InHeight = InWidth = OutHeight = OutWidth = KernelSize = Stride = 1;
                InChannels = (int)layer.Input.Length;
                OutChannels = layer.Size;
                PadTop = PadLeft = 0;
                MayLeaveImage = false;
            }
            else
            {
                InHeight = layer.Input.Height;
                InWidth = layer.Input.Width;
                InChannels = layer.Input.Channels;
                OutHeight = layer.Output.Height;
                OutWidth = layer.Output.Width;
                OutChannels = layer.Output.Channels;
                KernelSize = layer.KernelSize;
                Stride = layer.Stride;
                PadTop = layer.PadTop;
                PadLeft = layer.PadLeft;
                // 'same' padding may put a window cell above, left of, below or right of the image; 'valid' never does.
                MayLeaveImage = layer.Padding == PaddingKind.Same;
            }
        }

        public int InHeight { get; }
        public int InWidth { get; }
        public int InChannels { get; }
        public int OutHeight { get; }
        public int OutWidth { get; }
        public int OutChannels { get; }
        public int KernelSize { get; }
        public int Stride { get; }
        public int PadTop { get; }
        public int PadLeft { get; }
        public bool MayLeaveImage { get; }

        /// <summary>A 1 × 1 kernel on a 1 × 1 image (every Dense layer): the templates leave out the window loops.</summary>
        public bool Pointwise => KernelSize == 1 && InHeight == 1 && InWidth == 1 && OutHeight == 1 && OutWidth == 1;
    }

    private static void LayerClass(SourceWriter w, LayerKernels layer)
    {
        var l = layer.Plan;
        w.Raw("/// <summary>");
        w.Raw("/// The kernels of " + SourceWriter.Xml(GeneratedCode.Describe(l)) + ".");
        if (l.Kind == LayerKind.Dense) w.Line($"/// A dense layer: the 1x1 convolution of a 1x1 image with {l.Input.Length} channels, on the convolution's templates.");
        w.Raw("/// </summary>");
        w.OpenRaw($"private static class {layer.Class}");
        if (l.Kind is LayerKind.Conv2D or LayerKind.Dense)
        {
            var g = new Geometry(l);
            Const(w, "InHeight", g.InHeight);
            Const(w, "InWidth", g.InWidth);
            Const(w, "InChannels", g.InChannels);
            Const(w, "OutHeight", g.OutHeight);
            Const(w, "OutWidth", g.OutWidth);
            Const(w, "OutChannels", g.OutChannels);
            Const(w, "KernelSize", g.KernelSize);
            Const(w, "Stride", g.Stride);
            Const(w, "PadTop", g.PadTop);
            Const(w, "PadLeft", g.PadLeft);
            w.Raw("public const int InputFloats = InHeight * InWidth * InChannels;");
            w.Raw("public const int OutputFloats = OutHeight * OutWidth * OutChannels;");
            w.Raw("public const int KernelLength = KernelSize * KernelSize * InChannels * OutChannels; // then the bias, OutChannels");
            w.Raw("public const int LayerParameters = KernelLength + OutChannels;");
            w.Line($"public const int GradientSlices = {l.GpuGradientSlices}; // batch slices of the parameter gradient (the plan's)");
        }
        else if (l.Kind is LayerKind.BatchNormalization or LayerKind.Dropout or LayerKind.GlobalAveragePooling2D)
        {
            ModeLayerConstants(w, l);
        }
        else
        {
            Const(w, "InHeight", l.Input.Height);
            Const(w, "InWidth", l.Input.Width);
            Const(w, "Channels", l.Input.Channels);
            Const(w, "OutHeight", l.Output.Height);
            Const(w, "OutWidth", l.Output.Width);
            Const(w, "PoolSize", l.KernelSize);
            Const(w, "Stride", l.Stride);
            w.Raw("public const int InputFloats = InHeight * InWidth * Channels;");
            w.Raw("public const int OutputFloats = OutHeight * OutWidth * Channels;");
            if (l.Kind == LayerKind.AvgPool2D) w.Raw("public const float WindowScale = 1f / (PoolSize * PoolSize);");
        }

        foreach (var kernel in layer.Kernels)
        {
            w.Raw();
            kernel.Write(w);
        }

        w.Close();
    }

    private static void Const(SourceWriter w, string name, int value) => w.Line($"public const int {name} = {value};");

    private static string Activate(ActivationKind activation, string value) => activation switch
    {
        // The runtime's own scalar functions, which the CPU kernels compute lane by lane: the same values on both.
        ActivationKind.Tanh => $"{Activations}.TanhOf({value})",
        ActivationKind.Sigmoid => $"{Activations}.SigmoidOf({value})",
        ActivationKind.Relu => $"{value} > 0f ? {value} : 0f",
        _ => value,
    };

    private static string ActivationName(ActivationKind activation) => activation switch
    {
        ActivationKind.Softmax => "none here (softmax is applied with the loss, or by prediction)",
        _ => GeneratedCode.Activation(activation),
    };

    private static Kernel ConvForward(LayerKernels layer)
    {
        var l = layer.Plan;
        var g = new Geometry(l);
        var k = new Kernel(layer, "Forward");
        k.Summary.Add($"Forward of {l.KerasName}: x {GeneratedCode.Batched(l.Input)} -> y {GeneratedCode.Batched(l.Output)}, activation {ActivationName(l.Activation)}.");
        k.Summary.Add("One thread per output element: y[n, oy, ox, co] = act(bias[co] + sum over the window and the input channels of x * kernel).");
        k.Param("int", "count").Param(View, "x").Param(View, "kernel").Param(View, "bias").Param(View, "y");
        k.Line("int total = count * OutputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        if (g.Pointwise)
        {
            k.Line("int co = i % OutChannels;");
            k.Line("int xBase = i / OutChannels * InChannels;");
            k.Line("float sum = bias[co];");
            k.Line("for (int ci = 0; ci < InChannels; ci++) sum += x[xBase + ci] * kernel[ci * OutChannels + co];");
        }
        else
        {
            Decompose(k, "OutHeight", "OutWidth", "OutChannels", "oy", "ox", "co");
            k.Line("float sum = bias[co];");
            k.Open("for (int ky = 0; ky < KernelSize; ky++)");
            k.Line("int iy = oy * Stride - PadTop + ky;");
            if (g.MayLeaveImage) k.Line("if (iy < 0 || iy >= InHeight) continue; // zero padding adds nothing");
            k.Open("for (int kx = 0; kx < KernelSize; kx++)");
            k.Line("int ix = ox * Stride - PadLeft + kx;");
            if (g.MayLeaveImage) k.Line("if (ix < 0 || ix >= InWidth) continue;");
            k.Line("int xBase = ((n * InHeight + iy) * InWidth + ix) * InChannels;");
            k.Line("int wBase = (ky * KernelSize + kx) * InChannels * OutChannels + co;");
            k.Line("for (int ci = 0; ci < InChannels; ci++) sum += x[xBase + ci] * kernel[wBase + ci * OutChannels];");
            k.Close();
            k.Close();
        }

        k.Line($"y[i] = {Activate(l.Activation, "sum")};");
        k.Close();
        return k;
    }

    private static Kernel ActivationBackward(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "ActivationBackward");
        k.Summary.Add($"Backward of {l.KerasName}'s {GeneratedCode.Activation(l.Activation)}, in place: {ActivationRule(l.Activation)}, through the layer's output y.");
        k.Summary.Add($"y and dy {GeneratedCode.Batched(l.Output)}; one thread per element.");
        k.Param("int", "count").Param(View, "y").Param(View, "dy");
        k.Line("int total = count * OutputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        switch (l.Activation)
        {
            case ActivationKind.Tanh:
                k.Line("float v = y[i];");
                k.Line("dy[i] *= 1f - v * v;");
                break;
            case ActivationKind.Relu:
                k.Line("dy[i] *= y[i] > 0f ? 1f : 0f;");
                break;
            default:
                k.Line("float v = y[i];");
                k.Line("dy[i] *= v * (1f - v);");
                break;
        }

        k.Close();
        return k;
    }

    private static Kernel ConvParameterGradient(LayerKernels layer)
    {
        var l = layer.Plan;
        var g = new Geometry(l);
        var slices = l.GpuGradientSlices;
        var k = new Kernel(layer, "ParameterGradient");
        k.Summary.Add($"Kernel and bias gradients of {l.KerasName}, from x {GeneratedCode.Batched(l.Input)} and dz = d(loss)/d(pre-activation) {GeneratedCode.Batched(l.Output)}:");
        k.Summary.Add("dKernel[ky, kx, ci, co] = sum over samples and output pixels of x[n, oy*Stride - PadTop + ky, ox*Stride - PadLeft + kx, ci] * dz[n, oy, ox, co]; dBias[co] = sum of dz[n, oy, ox, co].");
        k.Param("int", "count").Param(View, "x").Param(View, "dz");
        string first, end;
        if (slices == 1)
        {
            k.Summary.Add($"One thread per parameter ({l.ParameterCount}), summing over the whole batch in sample order.");
            k.Param(View, "dKernel").Param(View, "dBias");
            k.Open("for (int j = thread; j < LayerParameters; j += threads)");
            (first, end) = ("0", "count");
        }
        else
        {
            k.Summary.Add($"One thread per (batch slice, parameter), {slices} x {l.ParameterCount}: each writes its slice's partial sum to partial[slice, j], which the runtime adds up in slice order.");
            k.Param(View, "partial");
            k.Line("int total = GradientSlices * LayerParameters;");
            k.Open("for (int i = thread; i < total; i += threads)");
            k.Line("int j = i % LayerParameters;");
            k.Line("int slice = i / LayerParameters;");
            k.Line("int first = count * slice / GradientSlices;");
            k.Line("int end = count * (slice + 1) / GradientSlices;");
            (first, end) = ("first", "end");
        }

        k.Line("float sum = 0f;");
        k.Open("if (j < KernelLength)");
        if (g.Pointwise)
        {
            k.Line("int co = j % OutChannels;");
            k.Line("int ci = j / OutChannels;");
            k.Line($"for (int n = {first}; n < {end}; n++) sum += x[n * InChannels + ci] * dz[n * OutChannels + co];");
        }
        else
        {
            k.Line("int co = j % OutChannels;");
            k.Line("int ci = j / OutChannels % InChannels;");
            k.Line("int kx = j / (OutChannels * InChannels) % KernelSize;");
            k.Line("int ky = j / (OutChannels * InChannels * KernelSize);");
            k.Open($"for (int n = {first}; n < {end}; n++)");
            k.Open("for (int oy = 0; oy < OutHeight; oy++)");
            k.Line("int iy = oy * Stride - PadTop + ky;");
            if (g.MayLeaveImage) k.Line("if (iy < 0 || iy >= InHeight) continue;");
            k.Open("for (int ox = 0; ox < OutWidth; ox++)");
            k.Line("int ix = ox * Stride - PadLeft + kx;");
            if (g.MayLeaveImage) k.Line("if (ix < 0 || ix >= InWidth) continue;");
            k.Line("sum += x[((n * InHeight + iy) * InWidth + ix) * InChannels + ci] * dz[((n * OutHeight + oy) * OutWidth + ox) * OutChannels + co];");
            k.Close();
            k.Close();
            k.Close();
        }

        if (slices == 1) k.Line("dKernel[j] = sum;");
        k.Close();
        k.Open("else");
        k.Line("int co = j - KernelLength;");
        if (g.Pointwise)
        {
            k.Line($"for (int n = {first}; n < {end}; n++) sum += dz[n * OutChannels + co];");
        }
        else
        {
            k.Open($"for (int n = {first}; n < {end}; n++)");
            k.Line("for (int p = 0; p < OutHeight * OutWidth; p++) sum += dz[(n * (OutHeight * OutWidth) + p) * OutChannels + co];");
            k.Close();
        }

        if (slices == 1) k.Line("dBias[co] = sum;");
        k.Close();
        if (slices > 1) k.Line("partial[i] = sum; // partial[slice * LayerParameters + j]");
        k.Close();
        return k;
    }

    private static Kernel ConvInputGradient(LayerKernels layer)
    {
        var l = layer.Plan;
        var g = new Geometry(l);
        var k = new Kernel(layer, "InputGradient");
        k.Summary.Add($"Input gradient of {l.KerasName}: dz {GeneratedCode.Batched(l.Output)} and the kernel -> dx {GeneratedCode.Batched(l.Input)}.");
        k.Summary.Add("One thread per input element: dx[n, iy, ix, ci] = sum over the output pixels whose window covers (iy, ix) and over co of dz[n, oy, ox, co] * kernel[ky, kx, ci, co].");
        k.Param("int", "count").Param(View, "dz").Param(View, "kernel").Param(View, "dx");
        k.Line("int total = count * InputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        if (g.Pointwise)
        {
            k.Line("int ci = i % InChannels;");
            k.Line("int zBase = i / InChannels * OutChannels;");
            k.Line("int wBase = ci * OutChannels;");
            k.Line("float sum = 0f;");
            k.Line("for (int co = 0; co < OutChannels; co++) sum += dz[zBase + co] * kernel[wBase + co];");
        }
        else
        {
            Decompose(k, "InHeight", "InWidth", "InChannels", "iy", "ix", "ci");
            k.Line("float sum = 0f;");
            k.Open("for (int ky = 0; ky < KernelSize; ky++)");
            k.Line("int ty = iy + PadTop - ky; // = oy * Stride for the output row whose window row ky is iy");
            k.Line("if (ty < 0) break;");
            if (g.Stride > 1) k.Line("if (ty % Stride != 0) continue;");
            k.Line("int oy = ty / Stride;");
            k.Line("if (oy >= OutHeight) continue;");
            k.Open("for (int kx = 0; kx < KernelSize; kx++)");
            k.Line("int tx = ix + PadLeft - kx;");
            k.Line("if (tx < 0) break;");
            if (g.Stride > 1) k.Line("if (tx % Stride != 0) continue;");
            k.Line("int ox = tx / Stride;");
            k.Line("if (ox >= OutWidth) continue;");
            k.Line("int zBase = ((n * OutHeight + oy) * OutWidth + ox) * OutChannels;");
            k.Line("int wBase = ((ky * KernelSize + kx) * InChannels + ci) * OutChannels;");
            k.Line("for (int co = 0; co < OutChannels; co++) sum += dz[zBase + co] * kernel[wBase + co];");
            k.Close();
            k.Close();
        }

        k.Line("dx[i] = sum;");
        k.Close();
        return k;
    }

    private static Kernel PoolForward(LayerKernels layer)
    {
        var l = layer.Plan;
        var max = l.Kind == LayerKind.MaxPool2D;
        var k = new Kernel(layer, "Forward");
        k.Summary.Add($"Forward of {l.KerasName}: x {GeneratedCode.Batched(l.Input)} -> y {GeneratedCode.Batched(l.Output)}.");
        k.Summary.Add($"One thread per output element: the {(max ? "largest value" : "mean")} of its window.");
        k.Param("int", "count").Param(View, "x").Param(View, "y");
        k.Line("int total = count * OutputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        Decompose(k, "OutHeight", "OutWidth", "Channels", "oy", "ox", "c");
        k.Line("int corner = ((n * InHeight + oy * Stride) * InWidth + ox * Stride) * Channels + c; // the window's top-left cell");
        k.Line(max ? "float v = x[corner];" : "float v = 0f;");
        k.Open("for (int wy = 0; wy < PoolSize; wy++)");
        k.Open("for (int wx = 0; wx < PoolSize; wx++)");
        k.Line("float cell = x[corner + (wy * InWidth + wx) * Channels];");
        k.Line(max ? "if (cell > v) v = cell;" : "v += cell;");
        k.Close();
        k.Close();
        k.Line(max ? "y[i] = v;" : "y[i] = v * WindowScale;");
        k.Close();
        return k;
    }

    private static Kernel PoolBackward(LayerKernels layer)
    {
        var l = layer.Plan;
        var max = l.Kind == LayerKind.MaxPool2D;
        var k = new Kernel(layer, "Backward");
        k.Summary.Add($"Input gradient of {l.KerasName}: dy {GeneratedCode.Batched(l.Output)} -> dx {GeneratedCode.Batched(l.Input)}.");
        k.Summary.Add(max
            ? "One thread per input element: the sum of dy over the windows that cover it and whose first maximum (row by row, left to right, as on the CPU and in TensorFlow) it is."
            : "One thread per input element: the sum of dy / PoolSize² over the windows that cover it.");
        k.Param("int", "count");
        if (max) k.Param(View, "x");
        k.Param(View, "dy").Param(View, "dx");
        k.Line("int total = count * InputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        Decompose(k, "InHeight", "InWidth", "Channels", "iy", "ix", "c");
        k.Line("// The windows covering (iy, ix): oy * Stride <= iy < oy * Stride + PoolSize, likewise for ox.");
        k.Line("int oy0 = iy < PoolSize ? 0 : (iy - PoolSize) / Stride + 1;");
        k.Line("int oy1 = iy / Stride < OutHeight ? iy / Stride : OutHeight - 1;");
        k.Line("int ox0 = ix < PoolSize ? 0 : (ix - PoolSize) / Stride + 1;");
        k.Line("int ox1 = ix / Stride < OutWidth ? ix / Stride : OutWidth - 1;");
        k.Line("float sum = 0f;");
        k.Open("for (int oy = oy0; oy <= oy1; oy++)");
        k.Open("for (int ox = ox0; ox <= ox1; ox++)");
        k.Line("int o = ((n * OutHeight + oy) * OutWidth + ox) * Channels + c;");
        if (max)
        {
            k.Line("int corner = ((n * InHeight + oy * Stride) * InWidth + ox * Stride) * Channels + c;");
            k.Line("int best = 0;");
            k.Line("float bestValue = x[corner];");
            k.Open("for (int wy = 0; wy < PoolSize; wy++)");
            k.Open("for (int wx = 0; wx < PoolSize; wx++)");
            k.Line("float cell = x[corner + (wy * InWidth + wx) * Channels];");
            k.Open("if (cell > bestValue)");
            k.Line("bestValue = cell;");
            k.Line("best = wy * PoolSize + wx;");
            k.Close();
            k.Close();
            k.Close();
            k.Line("if (best == (iy - oy * Stride) * PoolSize + (ix - ox * Stride)) sum += dy[o];");
        }
        else
        {
            k.Line("sum += dy[o] * WindowScale;");
        }

        k.Close();
        k.Close();
        k.Line("dx[i] = sum;");
        k.Close();
        return k;
    }

    /// <summary>Splits the flat index <c>i</c> of a [count, H, W, C] tensor into n, y, x, c.</summary>
    private static void Decompose(Kernel k, string h, string wd, string c, string yName, string xName, string cName)
    {
        k.Line($"int {cName} = i % {c};");
        k.Line($"int pixel = i / {c};");
        k.Line($"int {xName} = pixel % {wd};");
        k.Line($"int {yName} = pixel / {wd} % {h};");
        k.Line($"int n = pixel / ({wd} * {h});");
    }

    /// <summary>One kernel: a static method of its layer's class taking (thread, threads, parameters...), and the field it is loaded into.</summary>
    private sealed class Kernel
    {
        private readonly List<(string Type, string Name)> _parameters = new();
        private readonly SourceWriter _body = new();

        public Kernel(LayerKernels layer, string name)
        {
            Owner = layer.Class;
            Name = name;
            Field = "_" + char.ToLowerInvariant(layer.Plan.MemberPrefix[0]) + layer.Plan.MemberPrefix.Substring(1) + "_" + name;
        }

        /// <summary>The layer class the method lives in.</summary>
        public string Owner { get; }

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

        public void Line(string line) => _body.Raw(line);

        public void Open(string header) => _body.OpenRaw(header);

        public void Close() => _body.Close();

        public void Write(SourceWriter w)
        {
            w.Raw("/// <summary>");
            foreach (var line in Summary) w.Raw("/// " + SourceWriter.Xml(line));
            w.Raw("/// </summary>");
            var parameters = string.Join(", ", new[] { $"{Index} thread", "int threads" }.Concat(_parameters.Select(p => $"{p.Type} {p.Name}")));
            w.Raw($"public static void {Name}({parameters})");
            w.OpenBrace();
            foreach (var line in _body.ToString().TrimEnd('\n').Split('\n')) w.Raw(line);
            w.Close();
        }
    }
}

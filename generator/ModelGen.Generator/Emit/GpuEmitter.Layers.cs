using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Emit;

// The GPU kernels of the layers that compute differently in training and inference (BatchNormalization, Dropout) and of
// GlobalAveragePooling2D. They mirror the CPU kernels (ModelGen.CompilerServices.Normalization, Dropout, GlobalPooling):
// the same statistics rows, the same dropout hash (they call its functions), the same per-sample partial sums reduced in
// sample order; only the last sums run in float here where the CPU adds them in double.
internal static partial class GpuEmitter
{
    private const string Services = "global::ModelGen.CompilerServices";
    private const string Status = "global::ILGPU.ArrayView<int>";

    private static void BuildModeLayer(LayerKernels kernels)
    {
        var layer = kernels.Plan;
        switch (layer.Kind)
        {
            case LayerKind.BatchNormalization:
                kernels.Others.Add(SampleSums(kernels));
                kernels.Others.Add(Moments(kernels));
                kernels.Others.Add(InferenceStatistics(kernels));
                kernels.Forward = Normalize(kernels);
                kernels.Others.Add(MovingAverage(kernels));
                if (!layer.RunsBackward) break;
                kernels.Others.Add(GradientSums(kernels));
                kernels.Others.Add(GradientReduce(kernels));
                if (layer.NeedsInputGradient) kernels.InputGradient = NormalizationInputGradient(kernels);
                break;
            case LayerKind.Dropout:
                kernels.Forward = DropoutKernel(kernels, "Forward", "x", "y");
                if (layer.RunsBackward && layer.NeedsInputGradient) kernels.Backward = DropoutKernel(kernels, "Backward", "dy", "dx");
                break;
            case LayerKind.GlobalAveragePooling2D:
                kernels.Forward = GlobalPoolForward(kernels);
                if (layer.RunsBackward && layer.NeedsInputGradient) kernels.Backward = GlobalPoolBackward(kernels);
                break;
        }
    }

    private static void ModeLayerConstants(SourceWriter w, LayerPlan l)
    {
        switch (l.Kind)
        {
            case LayerKind.BatchNormalization:
                Const(w, "Pixels", l.Input.Height * l.Input.Width);
                Const(w, "Channels", l.Input.Channels);
                w.Raw("public const int InputFloats = Pixels * Channels;");
                w.Raw("public const int OutputFloats = InputFloats;");
                w.Raw($"public const float Epsilon = {SourceWriter.Float((float)l.Epsilon)};");
                w.Raw($"public const float Momentum = {SourceWriter.Float((float)l.Momentum)};");
                w.Raw($"public const float OneMinusMomentum = {SourceWriter.Float((float)(1.0 - l.Momentum))};");
                w.Raw($"public const float StatisticsLimit = {SourceWriter.Float(float.MaxValue / 2)}; // beyond it a pass has diverged (as on the CPU)");
                break;
            case LayerKind.Dropout:
                Const(w, "Units", (int)l.Input.Length);
                Const(w, "Layer", l.Position);
                w.Line($"public const int DropThreshold = {GeneratedCode.DropThreshold(l.Rate)}; // round(rate * 2^24)");
                w.Raw($"public const float KeepProbability = {SourceWriter.Float((float)(1.0 - l.Rate))};");
                break;
            default:
                Const(w, "Pixels", l.Input.Height * l.Input.Width);
                Const(w, "Channels", l.Input.Channels);
                w.Raw("public const int InputFloats = Pixels * Channels;");
                w.Raw("public const int OutputFloats = Channels;");
                break;
        }
    }

    private static void ForwardOfModeLayer(SourceWriter w, LayerKernels layer, string x, string y)
    {
        var l = layer.Plan;
        var c = layer.Class;
        switch (l.Kind)
        {
            case LayerKind.BatchNormalization:
            {
                var stats = "b." + l.StatisticsBuffer;
                var sums = "b." + l.SumsBuffer;
                w.OpenRaw("if (batch.Training)");
                w.Raw("// The batch's mean, then its biased variance around it: per-sample sums, added in sample order.");
                Launch(w, layer.Other("SampleSums"), $"count * {c}.Channels", $"count, 0, {x}, {stats}, {sums}");
                Launch(w, layer.Other("Moments"), $"{c}.Channels", $"count, 0, p.{l.Gamma!.Identifier}, p.{l.Beta!.Identifier}, {sums}, {stats}");
                Launch(w, layer.Other("SampleSums"), $"count * {c}.Channels", $"count, 1, {x}, {stats}, {sums}");
                Launch(w, layer.Other("Moments"), $"{c}.Channels", $"count, 1, p.{l.Gamma.Identifier}, p.{l.Beta.Identifier}, {sums}, {stats}");
                w.Close();
                w.OpenRaw("else");
                w.Raw("// Inference: the moving statistics.");
                Launch(w, layer.Other("InferenceStatistics"), $"{c}.Channels",
                    $"p.{l.Gamma.Identifier}, p.{l.Beta.Identifier}, p.{l.MovingMean!.Identifier}, p.{l.MovingVariance!.Identifier}, {stats}");
                w.Close();
                Launch(w, layer.Forward!, $"count * {c}.OutputFloats", $"count, {x}, {stats}, {y}", "y = x * scale + shift");
                break;
            }
            case LayerKind.Dropout:
                w.OpenRaw("if (batch.Training)");
                Launch(w, layer.Forward!, $"count * {c}.Units", $"count, batch.DropoutKey, {x}, {y}",
                    $"drops {GeneratedCode.Percent(l.Rate)} of the values, divides the others by {ModelPlanner.Number(1.0 - l.Rate)}");
                w.Close();
                w.Raw($"else batch.Copy({x}, {y}, (long)count * {c}.Units); // inference: every value passes unchanged");
                break;
            default:
                Launch(w, layer.Forward!, $"count * {c}.Channels", $"count, {x}, {y}");
                break;
        }
    }

    private static void BackwardOfModeLayer(SourceWriter w, LayerKernels layer, string x, string dy, string? dx)
    {
        var l = layer.Plan;
        var c = layer.Class;
        switch (l.Kind)
        {
            case LayerKind.BatchNormalization:
            {
                var stats = "b." + l.StatisticsBuffer;
                var sums = "b." + l.SumsBuffer;
                Launch(w, layer.Other("GradientSums"), $"count * {c}.Channels", $"count, {x}, {dy}, {stats}, {sums}");
                Launch(w, layer.Other("GradientReduce"), $"{c}.Channels",
                    $"count, {sums}, {stats}, g.{l.Gamma!.GradientIdentifier}, g.{l.Beta!.GradientIdentifier}", "through the batch statistics");
                if (layer.InputGradient is { } input) Launch(w, input, $"count * {c}.InputFloats", $"count, {x}, {dy}, {stats}, {dx}");
                else w.Raw("// (no layer before this one has parameters: d(loss)/d(input) is not needed)");
                break;
            }
            case LayerKind.Dropout:
                Launch(w, layer.Backward!, $"count * {c}.Units", $"count, batch.DropoutKey, {dy}, {dx}", "the forward pass's mask, recomputed");
                break;
            default:
                Launch(w, layer.Backward!, $"count * {c}.InputFloats", $"count, {dy}, {dx}");
                break;
        }
    }

    private static void UpdateStatistics(SourceWriter w, List<LayerKernels> layers)
    {
        var normalizations = layers.Where(l => l.Plan.Kind == LayerKind.BatchNormalization).ToList();
        if (normalizations.Count == 0) return;
        w.Raw();
        w.Raw("/// <inheritdoc/>");
        w.Line($"public override void UpdateStatistics(in {Batch} batch)");
        w.OpenBrace();
        w.Raw("var b = new Buffers(batch);");
        w.Raw("var p = new Weights(batch.Parameters);");
        w.Raw("int n;");
        foreach (var layer in normalizations)
        {
            var l = layer.Plan;
            w.Raw();
            w.Raw($"// {l.KerasName} ({l.DisplayName}): moving = moving * {ModelPlanner.Number(l.Momentum)} + batch * (1 - {ModelPlanner.Number(l.Momentum)}), unless a step of the fit failed");
            Launch(w, layer.Other("MovingAverage"), $"{layer.Class}.Channels",
                $"b.{l.StatisticsBuffer}, p.{l.MovingMean!.Identifier}, p.{l.MovingVariance!.Identifier}, batch.Status");
        }

        w.Close();
    }

    // ----------------------------------------------------------------------------------------------------------------
    // BatchNormalization. The statistics rows (ModelGen.CompilerServices.Normalization): mean, variance, 1/sqrt(var + eps),
    // scale, shift, input-gradient slope and offset, each [Channels]; the sums buffer is [count, 2, Channels].

    private static Kernel SampleSums(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "SampleSums");
        k.Summary.Add($"Per-sample partial sums of {l.KerasName}'s input x {GeneratedCode.Batched(l.Input)}, one thread per (sample, channel):");
        k.Summary.Add("centered = 0: sums[n, 0, c] = sum over the pixels of x; centered = 1: sums[n, 1, c] = sum of (x - mean)^2.");
        k.Param("int", "count").Param("int", "centered").Param(View, "x").Param(View, "stats").Param(View, "sums");
        k.Line("int total = count * Channels;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int c = i % Channels;");
        k.Line("int n = i / Channels;");
        k.Line("int first = n * InputFloats + c;");
        k.Line("float mean = centered == 0 ? 0f : stats[c];");
        k.Line("float sum = 0f;");
        k.Open("for (int p = 0; p < Pixels; p++)");
        k.Line("float v = x[first + p * Channels] - mean;");
        k.Line("sum += centered == 0 ? v : v * v;");
        k.Close();
        k.Line("sums[(n * 2 + centered) * Channels + c] = sum;");
        k.Close();
        return k;
    }

    private static Kernel Moments(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "Moments");
        k.Summary.Add($"The batch statistics of {l.KerasName}, one thread per channel, the samples' sums added in sample order:");
        k.Summary.Add("phase 0: the mean; phase 1: the biased variance, 1/sqrt(variance + epsilon), scale = gamma/sqrt(...) and shift = beta - mean * scale.");
        k.Param("int", "count").Param("int", "phase").Param(View, "gamma").Param(View, "beta").Param(View, "sums").Param(View, "stats");
        k.Line("float values = (float)count * Pixels;");
        k.Open("for (int c = thread; c < Channels; c += threads)");
        k.Line("float sum = 0f;");
        k.Line("for (int n = 0; n < count; n++) sum += sums[(n * 2 + phase) * Channels + c];");
        k.Line("float moment = sum / values;");
        k.Open("if (phase == 0)");
        k.Line("stats[c] = moment;");
        k.Close();
        k.Open("else");
        k.Line("float mean = stats[c];");
        k.Line("stats[Channels + c] = moment;");
        k.Line("// A diverged pass gives NaN, so its step fails as a non-finite loss, as on the CPU.");
        k.Line("float variance = global::System.MathF.Abs(mean) <= StatisticsLimit && moment <= StatisticsLimit ? moment : float.NaN;");
        k.Line($"float inverse = {Services}.Normalization.InverseStd(variance, Epsilon);");
        k.Line("float scale = gamma[c] * inverse;");
        k.Line("stats[2 * Channels + c] = inverse;");
        k.Line("stats[3 * Channels + c] = scale;");
        k.Line("stats[4 * Channels + c] = beta[c] - mean * scale;");
        k.Close();
        k.Close();
        return k;
    }

    private static Kernel InferenceStatistics(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "InferenceStatistics");
        k.Summary.Add($"Inference scale and shift of {l.KerasName} from the moving statistics, one thread per channel.");
        k.Param(View, "gamma").Param(View, "beta").Param(View, "movingMean").Param(View, "movingVariance").Param(View, "stats");
        k.Open("for (int c = thread; c < Channels; c += threads)");
        k.Line($"float inverse = {Services}.Normalization.InverseStd(movingVariance[c], Epsilon);");
        k.Line("float scale = gamma[c] * inverse;");
        k.Line("stats[2 * Channels + c] = inverse;");
        k.Line("stats[3 * Channels + c] = scale;");
        k.Line("stats[4 * Channels + c] = beta[c] - movingMean[c] * scale;");
        k.Close();
        return k;
    }

    private static Kernel Normalize(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "Forward");
        k.Summary.Add($"Forward of {l.KerasName}: y = x * scale + shift per channel, x and y {GeneratedCode.Batched(l.Input)}; one thread per element.");
        k.Param("int", "count").Param(View, "x").Param(View, "stats").Param(View, "y");
        k.Line("int total = count * OutputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int c = i % Channels;");
        k.Line("y[i] = x[i] * stats[3 * Channels + c] + stats[4 * Channels + c];");
        k.Close();
        return k;
    }

    private static Kernel GradientSums(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "GradientSums");
        k.Summary.Add($"Per-sample sums of {l.KerasName}'s backward pass, one thread per (sample, channel): sums[n, 0, c] = sum of dy, sums[n, 1, c] = sum of dy * (x - mean).");
        k.Param("int", "count").Param(View, "x").Param(View, "dy").Param(View, "stats").Param(View, "sums");
        k.Line("int total = count * Channels;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int c = i % Channels;");
        k.Line("int n = i / Channels;");
        k.Line("int first = n * InputFloats + c;");
        k.Line("float mean = stats[c];");
        k.Line("float sumDy = 0f;");
        k.Line("float sumDyCentered = 0f;");
        k.Open("for (int p = 0; p < Pixels; p++)");
        k.Line("float g = dy[first + p * Channels];");
        k.Line("sumDy += g;");
        k.Line("sumDyCentered += g * (x[first + p * Channels] - mean);");
        k.Close();
        k.Line("sums[n * 2 * Channels + c] = sumDy;");
        k.Line("sums[(n * 2 + 1) * Channels + c] = sumDyCentered;");
        k.Close();
        return k;
    }

    private static Kernel GradientReduce(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "GradientReduce");
        k.Summary.Add($"Gradients of {l.KerasName}'s gamma and beta (dBeta = sum of dy, dGamma = sum of dy * (x - mean) / sqrt(var + eps)), one thread per");
        k.Summary.Add("channel, the samples' sums added in sample order; and the input gradient's slope and offset: dx = scale * dy + slope * (x - mean) + offset.");
        k.Param("int", "count").Param(View, "sums").Param(View, "stats").Param(View, "dGamma").Param(View, "dBeta");
        k.Line("float values = (float)count * Pixels;");
        k.Open("for (int c = thread; c < Channels; c += threads)");
        k.Line("float sumDy = 0f;");
        k.Line("float sumDyCentered = 0f;");
        k.Open("for (int n = 0; n < count; n++)");
        k.Line("sumDy += sums[n * 2 * Channels + c];");
        k.Line("sumDyCentered += sums[(n * 2 + 1) * Channels + c];");
        k.Close();
        k.Line("float inverse = stats[2 * Channels + c];");
        k.Line("float scale = stats[3 * Channels + c];");
        k.Line("dBeta[c] = sumDy;");
        k.Line("dGamma[c] = sumDyCentered * inverse;");
        k.Line("stats[5 * Channels + c] = -scale * inverse * inverse * sumDyCentered / values;");
        k.Line("stats[6 * Channels + c] = -scale * sumDy / values;");
        k.Close();
        return k;
    }

    private static Kernel NormalizationInputGradient(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "InputGradient");
        k.Summary.Add($"Input gradient of {l.KerasName} through the batch statistics: dx = scale * dy + slope * (x - mean) + offset; one thread per element.");
        k.Param("int", "count").Param(View, "x").Param(View, "dy").Param(View, "stats").Param(View, "dx");
        k.Line("int total = count * InputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int c = i % Channels;");
        k.Line("dx[i] = stats[3 * Channels + c] * dy[i] + (stats[5 * Channels + c] * (x[i] - stats[c]) + stats[6 * Channels + c]);");
        k.Close();
        return k;
    }

    private static Kernel MovingAverage(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "MovingAverage");
        k.Summary.Add($"After an applied step: {l.KerasName}'s moving mean and variance move toward the batch's (Keras 3: moving * momentum + batch * (1 - momentum));");
        k.Summary.Add("nothing once the status word records a failed step. One thread per channel.");
        k.Param(View, "stats").Param(View, "movingMean").Param(View, "movingVariance").Param(Status, "status");
        k.Line("if (status[0] != 0) return;");
        k.Open("for (int c = thread; c < Channels; c += threads)");
        k.Line($"movingMean[c] = {Services}.Normalization.MovingAverage(movingMean[c], stats[c], Momentum, OneMinusMomentum);");
        k.Line($"movingVariance[c] = {Services}.Normalization.MovingAverage(movingVariance[c], stats[Channels + c], Momentum, OneMinusMomentum);");
        k.Close();
        return k;
    }

    // ----------------------------------------------------------------------------------------------------------------
    // Dropout and GlobalAveragePooling2D

    private static Kernel DropoutKernel(LayerKernels layer, string name, string from, string to)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, name);
        k.Summary.Add(name == "Forward"
            ? $"Forward of {l.KerasName} in training: y = x / (1 - rate) where the mask keeps the value, else 0; x and y {GeneratedCode.Batched(l.Input)}."
            : $"Input gradient of {l.KerasName}: dx = dy / (1 - rate) where the forward pass kept the value, else 0.");
        k.Summary.Add("One thread per element; the mask is ModelGen.CompilerServices.Dropout's hash of (pass key, layer, sample, unit), the CPU's.");
        k.Param("int", "count").Param("ulong", "key").Param(View, from).Param(View, to);
        k.Line("int total = count * Units;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line($"uint sampleKey = {Services}.Dropout.SampleKey(key, Layer, i / Units);");
        k.Line($"{to}[i] = {Services}.Dropout.Keeps(sampleKey, i % Units, DropThreshold) ? {from}[i] / KeepProbability : 0f;");
        k.Close();
        return k;
    }

    private static Kernel GlobalPoolForward(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "Forward");
        k.Summary.Add($"Forward of {l.KerasName}: y[n, c] = the mean of x[n, :, :, c], x {GeneratedCode.Batched(l.Input)}; one thread per output element.");
        k.Param("int", "count").Param(View, "x").Param(View, "y");
        k.Line("int total = count * Channels;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("int c = i % Channels;");
        k.Line("int first = i / Channels * InputFloats + c;");
        k.Line("float sum = 0f;");
        k.Line("for (int p = 0; p < Pixels; p++) sum += x[first + p * Channels];");
        k.Line("y[i] = sum / Pixels;");
        k.Close();
        return k;
    }

    private static Kernel GlobalPoolBackward(LayerKernels layer)
    {
        var l = layer.Plan;
        var k = new Kernel(layer, "Backward");
        k.Summary.Add($"Input gradient of {l.KerasName}: dx[n, y, x, c] = dy[n, c] / pixels; one thread per input element.");
        k.Param("int", "count").Param(View, "dy").Param(View, "dx");
        k.Line("int total = count * InputFloats;");
        k.Open("for (int i = thread; i < total; i += threads)");
        k.Line("dx[i] = dy[i / InputFloats * Channels + i % Channels] / Pixels;");
        k.Close();
        return k;
    }
}

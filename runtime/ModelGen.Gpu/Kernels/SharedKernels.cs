using ILGPU;
using ILGPU.Runtime;

namespace ModelGen.Gpu;

/// <summary>
/// The kernels that do not depend on a network's shapes, compiled once per session: gathering a batch, the softmax
/// cross-entropy, the softmax output, Adam, the slice reduction of parameter gradients and a copy. Sizes (classes,
/// parameter counts) are arguments. Every kernel loops grid-stride over its elements and every element has one writer,
/// which sums in a fixed order: results do not depend on the launch size.
/// </summary>
internal sealed class SharedKernels
{
    public SharedKernels(Accelerator accelerator)
    {
        Gather = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>>(SharedKernelCode.Gather);
        Loss = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>>(SharedKernelCode.SoftmaxCrossEntropy);
        Softmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(SharedKernelCode.Softmax);
        Copy = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(SharedKernelCode.Copy);
        ReduceSlices = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SharedKernelCode.ReduceSlices);
        AdamCheck = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, int, AdamArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(SharedKernelCode.AdamCheck);
        AdamApply = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, int, AdamArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>>(SharedKernelCode.AdamApply);
    }

    /// <summary>(threads, count, start, length, features, labels, order, input, batchLabels).</summary>
    public Action<Index1D, int, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>> Gather { get; }

    /// <summary>(threads, count, classes, step, scale, logits, labels, dLogits, losses, correct, status).</summary>
    public Action<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>> Loss { get; }

    /// <summary>(threads, count, classes, logits, probabilities).</summary>
    public Action<Index1D, int, int, int, ArrayView<float>, ArrayView<float>> Softmax { get; }

    /// <summary>(threads, length, from, to).</summary>
    public Action<Index1D, int, int, ArrayView<float>, ArrayView<float>> Copy { get; }

    /// <summary>(threads, slices, kernelLength, biasLength, partial, dKernel, dBias).</summary>
    public Action<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>> ReduceSlices { get; }

    /// <summary>(threads, length, step, scalars, parameters, gradient, m, v, status).</summary>
    public Action<Index1D, int, int, int, AdamArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>> AdamCheck { get; }

    /// <summary>(threads, length, step, scalars, parameters, gradient, m, v, status, refusedGradient).</summary>
    public Action<Index1D, int, int, int, AdamArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>> AdamApply { get; }
}

/// <summary>The scalars of one Adam update as a kernel argument (from <see cref="Adam.ScalarsOf"/>: the same values the CPU uses).</summary>
internal readonly struct AdamArguments(float alpha, float oneMinusBeta1, float oneMinusBeta2, float epsilon)
{
    public readonly float Alpha = alpha;
    public readonly float OneMinusBeta1 = oneMinusBeta1;
    public readonly float OneMinusBeta2 = oneMinusBeta2;
    public readonly float Epsilon = epsilon;
}

/// <summary>The bodies of <see cref="SharedKernels"/>: static methods, float math only (MathF), so they compile for CUDA.</summary>
internal static class SharedKernelCode
{
    /// <summary>input[n, :] = features[order[start + n], :] and batchLabels[n] = labels[order[start + n]] for n &lt; count.</summary>
    public static void Gather(
        Index1D thread, int threads, int count, int start, int length, ArrayView<float> features, ArrayView<int> labels,
        ArrayView<int> order, ArrayView<float> input, ArrayView<int> batchLabels)
    {
        var total = count * length;
        for (int i = thread; i < total; i += threads)
        {
            var n = i / length;
            var j = i - n * length;
            var sample = order[start + n];
            input[i] = features[(long)sample * length + j]; // long: a data set may hold more than 2^31 floats
            if (j == 0) batchLabels[n] = labels[sample];
        }
    }

    /// <summary>
    /// Sparse categorical cross-entropy from the logits, as the CPU computes it (log-sum-exp, no clipping), one thread
    /// per sample: loss = log Σ e^(z − max) + max − z[label], the hit (first largest logit is the label) and, with
    /// scale ≠ 0, d(scale · loss)/d(z) = scale · (softmax(z) − onehot). A loss that is not finite records
    /// <paramref name="step"/> in status[0] (the first one wins), which stops every later Adam update.
    /// </summary>
    public static void SoftmaxCrossEntropy(
        Index1D thread, int threads, int count, int classes, int step, float scale, ArrayView<float> logits, ArrayView<int> labels,
        ArrayView<float> dLogits, ArrayView<float> losses, ArrayView<int> correct, ArrayView<int> status)
    {
        for (int n = thread; n < count; n += threads)
        {
            var b = n * classes;
            var largest = logits[b];
            for (var c = 1; c < classes; c++) largest = MathF.Max(largest, logits[b + c]);
            var total = 0f;
            for (var c = 0; c < classes; c++) total += MathF.Exp(logits[b + c] - largest);
            var logTotal = MathF.Log(total);
            var label = labels[n];
            var loss = logTotal + largest - logits[b + label];
            losses[n] = loss;
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (logits[b + c] > logits[b + best]) best = c;
            }

            correct[n] = best == label ? 1 : 0;
            if (!(MathF.Abs(loss) <= float.MaxValue) && step != 0) Atomic.CompareExchange(ref status[0], 0, step); // NaN or infinity
            if (scale == 0f) continue;
            for (var c = 0; c < classes; c++)
            {
                var p = MathF.Exp(logits[b + c] - largest - logTotal);
                dLogits[b + c] = (c == label ? p - 1f : p) * scale;
            }
        }
    }

    /// <summary>probabilities[n, :] = softmax(logits[n, :]), stable (the largest logit subtracted first), as the CPU computes it.</summary>
    public static void Softmax(Index1D thread, int threads, int count, int classes, ArrayView<float> logits, ArrayView<float> probabilities)
    {
        for (int n = thread; n < count; n += threads)
        {
            var b = n * classes;
            var largest = logits[b];
            for (var c = 1; c < classes; c++) largest = MathF.Max(largest, logits[b + c]);
            var total = 0f;
            for (var c = 0; c < classes; c++)
            {
                var e = MathF.Exp(logits[b + c] - largest);
                probabilities[b + c] = e;
                total += e;
            }

            var inverse = 1f / total;
            for (var c = 0; c < classes; c++) probabilities[b + c] *= inverse;
        }
    }

    /// <summary>to[i] = from[i] for i &lt; length.</summary>
    public static void Copy(Index1D thread, int threads, int length, ArrayView<float> from, ArrayView<float> to)
    {
        for (int i = thread; i < length; i += threads) to[i] = from[i];
    }

    /// <summary>
    /// gradient[j] = Σ over s of partial[s, j], in slice order, for the kernel + bias parameters of one layer
    /// (partial is [slices, kernelLength + biasLength]); one thread per parameter.
    /// </summary>
    public static void ReduceSlices(
        Index1D thread, int threads, int slices, int kernelLength, int biasLength, ArrayView<float> partial,
        ArrayView<float> dKernel, ArrayView<float> dBias)
    {
        var parameters = kernelLength + biasLength;
        for (int j = thread; j < parameters; j += threads)
        {
            var sum = partial[j];
            for (var s = 1; s < slices; s++) sum += partial[s * parameters + j];
            if (j < kernelLength) dKernel[j] = sum;
            else dBias[j - kernelLength] = sum;
        }
    }

    /// <summary>
    /// Adam's update of step <paramref name="step"/> run dry, as the CPU's update is before it is applied: when any new
    /// moment or weight would not be finite, records −step in status[0] (so the update is refused). Does nothing once
    /// status[0] is set.
    /// </summary>
    public static void AdamCheck(
        Index1D thread, int threads, int length, int step, AdamArguments a, ArrayView<float> parameters, ArrayView<float> gradient,
        ArrayView<float> m, ArrayView<float> v, ArrayView<int> status)
    {
        if (status[0] != 0) return;
        for (int i = thread; i < length; i += threads)
        {
            var g = gradient[i];
            var mi = m[i] + (g - m[i]) * a.OneMinusBeta1;
            var vi = v[i] + (g * g - v[i]) * a.OneMinusBeta2;
            var pi = parameters[i] - mi * a.Alpha / (MathF.Sqrt(vi) + a.Epsilon);
            if (!(MathF.Abs(mi) <= float.MaxValue) || !(vi <= float.MaxValue) || !(MathF.Abs(pi) <= float.MaxValue))
            {
                Atomic.CompareExchange(ref status[0], 0, -step);
            }
        }
    }

    /// <summary>
    /// Keras's Adam, exactly the CPU's arithmetic: m += (g − m)(1 − β1); v += (g² − v)(1 − β2); w −= α·m/(√v + ε).
    /// Skipped once status[0] is set, so the weights and moments from before a failed step are kept; the step whose
    /// update <see cref="AdamCheck"/> refused copies its gradient to <paramref name="refusedGradient"/> (for the message).
    /// </summary>
    public static void AdamApply(
        Index1D thread, int threads, int length, int step, AdamArguments a, ArrayView<float> parameters, ArrayView<float> gradient,
        ArrayView<float> m, ArrayView<float> v, ArrayView<int> status, ArrayView<float> refusedGradient)
    {
        var state = status[0];
        if (state != 0)
        {
            if (state != -step) return;
            for (int i = thread; i < length; i += threads) refusedGradient[i] = gradient[i];
            return;
        }

        for (int i = thread; i < length; i += threads)
        {
            var g = gradient[i];
            var mi = m[i] + (g - m[i]) * a.OneMinusBeta1;
            var vi = v[i] + (g * g - v[i]) * a.OneMinusBeta2;
            m[i] = mi;
            v[i] = vi;
            parameters[i] -= mi * a.Alpha / (MathF.Sqrt(vi) + a.Epsilon);
        }
    }
}

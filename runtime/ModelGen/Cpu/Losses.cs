namespace ModelGen.Cpu;

/// <summary>
/// Sparse categorical cross-entropy on a batch of logits, as Keras computes it after a softmax layer (and with
/// <c>from_logits=True</c> when the network has none): from the logits, by log-sum-exp, without clipping. Shape-independent,
/// so it lives here once rather than in every generated network.
/// </summary>
internal static class Losses
{
    /// <summary>The loss of one batch: summed over its samples (in sample order, in double) and its correct predictions.</summary>
    public readonly record struct BatchLoss(double Sum, int Correct);

    /// <summary>
    /// For each sample n: loss = logsumexp(z) − z[label], the predicted class (first largest probability), and optionally
    /// the probabilities and d(scale · loss)/d(z) = scale · (softmax(z) − onehot(label)).
    /// </summary>
    /// <param name="logits">[count, classes].</param>
    /// <param name="labels">[count], each in [0, classes).</param>
    /// <param name="classes">Logits per sample.</param>
    /// <param name="probabilities">Receives softmax(z) [count, classes], or empty.</param>
    /// <param name="dLogits">Receives scale · (softmax(z) − onehot), [count, classes], or empty.</param>
    /// <param name="scale">1 / batch size for a mean loss.</param>
    /// <param name="losses">Receives each sample's loss [count], or empty.</param>
    public static BatchLoss SoftmaxCrossEntropy(
        ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes,
        Span<float> probabilities, Span<float> dLogits, float scale, Span<float> losses)
    {
        var count = labels.Length;
        double sum = 0;
        var correct = 0;
        for (var n = 0; n < count; n++)
        {
            var z = logits.Slice(n * classes, classes);
            var label = labels[n];
            var largest = z[0];
            for (var c = 1; c < classes; c++) largest = MathF.Max(largest, z[c]);
            var total = 0f;
            for (var c = 0; c < classes; c++) total += MathF.Exp(z[c] - largest);
            var logTotal = MathF.Log(total);
            var loss = logTotal + largest - z[label];
            sum += loss;
            if (!losses.IsEmpty) losses[n] = loss;

            // The prediction is the first largest logit: softmax keeps their order.
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (z[c] > z[best]) best = c;
            }

            if (best == label) correct++;
            if (probabilities.IsEmpty && dLogits.IsEmpty) continue;
            for (var c = 0; c < classes; c++)
            {
                var p = MathF.Exp(z[c] - largest - logTotal);
                if (!probabilities.IsEmpty) probabilities[n * classes + c] = p;
                if (!dLogits.IsEmpty) dLogits[n * classes + c] = (c == label ? p - 1f : p) * scale;
            }
        }

        return new BatchLoss(sum, correct);
    }

    /// <summary>softmax(z) of each sample, stable (the largest logit is subtracted first).</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, int classes)
    {
        for (var n = 0; n < logits.Length / classes; n++)
        {
            var z = logits.Slice(n * classes, classes);
            var p = probabilities.Slice(n * classes, classes);
            var largest = z[0];
            for (var c = 1; c < classes; c++) largest = MathF.Max(largest, z[c]);
            var total = 0f;
            for (var c = 0; c < classes; c++)
            {
                p[c] = MathF.Exp(z[c] - largest);
                total += p[c];
            }

            var inverse = 1f / total;
            for (var c = 0; c < classes; c++) p[c] *= inverse;
        }
    }
}

using ModelGen.CompilerServices;
using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>
/// A stand-in for a generated network with the 23 parameters of <see cref="Small"/>: its gradient is a fixed function of
/// the sample, so a test can make one sample's gradient huge or NaN while its loss stays finite. Its loss becomes NaN
/// when a parameter is not finite, as a real network's would.
/// </summary>
internal sealed class FakeNetwork : IGeneratedNetwork
{
    /// <summary>Feature 0 of a sample that produces <see cref="PoisonGradient"/> in every gradient element.</summary>
    public const float PoisonMark = 99f;

    public FakeNetwork(float poisonGradient = float.NaN)
    {
        PoisonGradient = poisonGradient;
        for (var i = 0; i < Parameters.Length; i++) Parameters[i] = 0.01f * (i + 1);
    }

    public NetworkDescription Description { get; } = Small();

    public float[] Parameters { get; } = new float[23];

    public Optimizer? Optimizer { get; set; }

    public TrainingHistory? History { get; set; }

    public float PoisonGradient { get; }

    /// <summary>The parameters and the optimizer state when the poisoned sample was seen (batch size 1: before its step).</summary>
    public (float[] Parameters, OptimizerState? Optimizer)? BeforePoison { get; private set; }

    /// <summary>What <see cref="Forward"/> writes to every logit (default: a valid distribution after the softmax).</summary>
    public float OutputValue { get; set; } = 0.5f;

    public long WorkspaceLength(int capacity) => WorkspaceLayout.PrefixLength(capacity, 4, 2);

    /// <summary>Every logit is <see cref="OutputValue"/>, or NaN once a weight is not finite.</summary>
    public void Forward(in BatchPass pass, ReadOnlySpan<float> parameters, Span<float> workspace) =>
        WorkspaceLayout.Logits(workspace, pass.Capacity, 4, 2).Slice(0, 2 * pass.Count)
            .Fill(Parameters.All(float.IsFinite) ? OutputValue : float.NaN);

    /// <summary>
    /// A made-up mean gradient that depends on the samples, or <see cref="PoisonGradient"/> everywhere when a sample
    /// carries <see cref="PoisonMark"/>.
    /// </summary>
    public void Backward(in BatchPass pass, ReadOnlySpan<float> parameters, Span<float> workspace, Span<float> gradient)
    {
        var input = WorkspaceLayout.Input(workspace, pass.Capacity, 4, 2);
        gradient.Clear();
        for (var n = 0; n < pass.Count; n++)
        {
            if (input[4 * n] == PoisonMark)
            {
                BeforePoison = ((float[])Parameters.Clone(), Optimizer?.GetState());
                gradient.Fill(PoisonGradient);
                return;
            }

            for (var i = 0; i < gradient.Length; i++) gradient[i] += (0.1f * (i % 5 - 2) + input[4 * n + 1]) / pass.Count;
        }
    }

    /// <summary>The network has no moving statistics.</summary>
    public void UpdateStatistics(in BatchPass pass, Span<float> parameters, Span<float> workspace)
    {
    }

    /// <summary>Eight samples of 4 features; sample <paramref name="poisoned"/> (if any) carries <see cref="PoisonMark"/>.</summary>
    public static Dataset Data(int poisoned = -1, int count = 8)
    {
        var features = new float[count * 4];
        for (var s = 0; s < count; s++)
        {
            features[4 * s] = s == poisoned ? PoisonMark : 0;
            features[4 * s + 1] = 0.01f * s;
        }

        return new Dataset(features, [.. Enumerable.Range(0, count).Select(s => s % 2)], 4);
    }
}

using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>
/// A stand-in for a generated network with the 23 parameters of <see cref="Small"/>: its gradient is a fixed function of
/// the sample, so a test can make one sample's gradient huge or NaN while its loss stays finite. Its loss becomes NaN
/// when a parameter is not finite, as a real network's would.
/// </summary>
internal sealed class FakeNetwork : INetwork
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

    /// <summary>What <see cref="Forward"/> writes to every output (default: a valid distribution).</summary>
    public float OutputValue { get; set; } = 0.5f;

    public void Forward(ReadOnlySpan<float> input, Span<float> workspace, Span<float> output) => output.Fill(OutputValue);

    public float ForwardLoss(ReadOnlySpan<float> input, int label, Span<float> workspace, Span<float> output)
    {
        Forward(input, workspace, output);
        return Parameters.All(float.IsFinite) ? 0.7f : float.NaN;
    }

    public float ForwardBackward(ReadOnlySpan<float> input, int label, Span<float> workspace, Span<float> output, Span<float> gradient)
    {
        var loss = ForwardLoss(input, label, workspace, output);
        if (input[0] == PoisonMark)
        {
            BeforePoison = ((float[])Parameters.Clone(), Optimizer?.GetState());
            gradient.Fill(PoisonGradient);
            return loss;
        }

        for (var i = 0; i < gradient.Length; i++) gradient[i] += 0.1f * (i % 5 - 2) + input[1];
        return loss;
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

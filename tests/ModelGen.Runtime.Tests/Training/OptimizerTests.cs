namespace ModelGen.Runtime.Tests.Training;

public class OptimizerTests
{
    // 37 is not a multiple of any vector width, so both the vector loop and the scalar tail run.
    private const int Length = 37;
    private const int Steps = 6;

    private static float[] InitialWeights()
    {
        var random = new Random(7);
        var w = new float[Length];
        for (int i = 0; i < Length; i++)
        {
            // Away from zero so a relative tolerance is meaningful.
            w[i] = (float)((0.5 + random.NextDouble()) * (i % 2 == 0 ? 1 : -1));
        }

        return w;
    }

    private static float[][] Gradients()
    {
        var random = new Random(11);
        var grads = new float[Steps][];
        for (int s = 0; s < Steps; s++)
        {
            grads[s] = new float[Length];
            for (int i = 0; i < Length; i++)
            {
                // Small enough that no weight crosses zero (keeps the relative check meaningful); element 3 gets no
                // gradient and element 5 a tiny one, where epsilon matters.
                double g = (random.NextDouble() - 0.5) * 0.5;
                grads[s][i] = i == 3 ? 0f : i == 5 ? (float)(g * 1e-5) : (float)g;
            }
        }

        return grads;
    }

    private static void AssertClose(double expected, float actual, double relative, string what)
    {
        double tolerance = relative * Math.Max(Math.Abs(expected), 1e-3);
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R}, got {actual:R}");
    }

    [Theory]
    [InlineData(0.001, 0.9, 0.999, 1e-7, true)]
    [InlineData(0.05, 0.8, 0.99, 1e-3, false)]
    public void Adam_MatchesKerasUpdateComputedInDouble(double lr, double b1, double b2, double eps, bool useDefaults)
    {
        var w0 = InitialWeights();
        var grads = Gradients();
        var adam = useDefaults ? new Adam() : new Adam(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps);
        var w = (float[])w0.Clone();

        // Independent reference: Keras's Adam written out in double precision.
        var rw = Array.ConvertAll(w0, x => (double)x);
        var rm = new double[Length];
        var rv = new double[Length];
        for (int step = 0; step < Steps; step++)
        {
            adam.Step(w, grads[step]);

            int t = step + 1;
            double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
            for (int i = 0; i < Length; i++)
            {
                double g = grads[step][i];
                rm[i] = rm[i] + (g - rm[i]) * (1 - b1);
                rv[i] = rv[i] + (g * g - rv[i]) * (1 - b2);
                rw[i] = rw[i] - alpha * rm[i] / (Math.Sqrt(rv[i]) + eps);
            }

            for (int i = 0; i < Length; i++)
            {
                AssertClose(rw[i], w[i], 1e-6, $"w[{i}] after step {t}");
            }

            Assert.Equal(t, adam.Iterations);
        }

        var state = adam.GetState();
        for (int i = 0; i < Length; i++)
        {
            AssertClose(rm[i], state.Slots[0][i], 1e-5, $"m[{i}]");
            AssertClose(rv[i], state.Slots[1][i], 1e-5, $"v[{i}]");
        }

        // The zero-gradient element never moves.
        Assert.Equal(w0[3], w[3]);
    }

    [Fact]
    public void Adam_FirstStepMovesEachWeightByAboutLearningRate()
    {
        // Keras's first Adam step is lr·g/(|g|+ε·...) ≈ lr·sign(g): an independent sanity anchor.
        var w = new float[] { 1f, 1f, 1f };
        new Adam().Step(w, new float[] { 5f, -0.25f, 1e-3f });
        Assert.Equal(1 - 0.001, w[0], 6);
        Assert.Equal(1 + 0.001, w[1], 6);
        Assert.Equal(1 - 0.001, w[2], 5);
    }

    [Fact]
    public void Adam_VectorAndScalarPathsAgreeBitForBit()
    {
        var w0 = InitialWeights();
        var grads = Gradients();
        var whole = (float[])w0.Clone();
        var adam = new Adam();
        foreach (var g in grads)
        {
            adam.Step(whole, g);
        }

        for (int i = 0; i < Length; i++)
        {
            // A one-element buffer takes the scalar path only.
            var single = new[] { w0[i] };
            var one = new Adam();
            foreach (var g in grads)
            {
                one.Step(single, new[] { g[i] });
            }

            Assert.Equal(BitConverter.SingleToInt32Bits(single[0]), BitConverter.SingleToInt32Bits(whole[i]));
        }
    }

    [Fact]
    public void Adam_RejectsMismatchedLengths()
    {
        var adam = new Adam();
        Assert.Throws<ArgumentException>(() => adam.Step(new float[4], new float[3]));
        adam.Step(new float[4], new float[4]);
        var error = Assert.Throws<ArgumentException>(() => adam.Step(new float[5], new float[5]));
        Assert.Contains("4 parameters", error.Message);
    }

    [Fact]
    public void Adam_RejectsInvalidSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: -1));
    }

    [Fact]
    public void Adam_DefaultsAreKeras()
    {
        var state = new Adam().GetState();
        Assert.Equal("adam", state.Kind);
        Assert.Equal(0, state.Iterations);
        Assert.Empty(state.Slots);
        Assert.Equal(
            new (string, double)[] { ("learning_rate", 0.001), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7) },
            state.Hyperparameters);
    }

    [Theory]
    [InlineData(0.01, 0.0, false)]
    [InlineData(0.05, 0.9, false)]
    [InlineData(0.05, 0.9, true)]
    public void Sgd_MatchesKerasUpdateComputedInDouble(double lr, double momentum, bool nesterov)
    {
        var w0 = InitialWeights();
        var grads = Gradients();
        var sgd = lr == 0.01 && momentum == 0 ? new Sgd() : new Sgd(learningRate: lr, momentum: momentum, nesterov: nesterov);
        var w = (float[])w0.Clone();

        var rw = Array.ConvertAll(w0, x => (double)x);
        var rv = new double[Length];
        for (int step = 0; step < Steps; step++)
        {
            sgd.Step(w, grads[step]);
            for (int i = 0; i < Length; i++)
            {
                double g = grads[step][i];
                if (momentum == 0)
                {
                    rw[i] -= lr * g;
                }
                else
                {
                    rv[i] = momentum * rv[i] - lr * g;
                    rw[i] += nesterov ? momentum * rv[i] - lr * g : rv[i];
                }
            }

            for (int i = 0; i < Length; i++)
            {
                AssertClose(rw[i], w[i], 1e-6, $"w[{i}] after step {step + 1}");
            }
        }

        var state = sgd.GetState();
        Assert.Equal("sgd", state.Kind);
        Assert.Equal(Steps, state.Iterations);
        if (momentum == 0)
        {
            Assert.Empty(state.Slots);
        }
        else
        {
            Assert.Single(state.Slots);
            for (int i = 0; i < Length; i++)
            {
                AssertClose(rv[i], state.Slots[0][i], 1e-5, $"velocity[{i}]");
            }
        }
    }

    public static TheoryData<string> OptimizerNames => new() { "adam", "adam-custom", "sgd", "sgd-momentum", "sgd-nesterov" };

    private static Optimizer Create(string name) => name switch
    {
        "adam" => new Adam(),
        "adam-custom" => new Adam(learningRate: 0.02, beta1: 0.5, beta2: 0.9, epsilon: 1e-4),
        "sgd" => new Sgd(),
        "sgd-momentum" => new Sgd(learningRate: 0.03, momentum: 0.9),
        "sgd-nesterov" => new Sgd(learningRate: 0.03, momentum: 0.8, nesterov: true),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void State_RoundTripContinuesBitIdentically(string name)
    {
        var grads = Gradients();
        var uninterrupted = Create(name);
        var wA = InitialWeights();
        for (int s = 0; s < 3; s++)
        {
            uninterrupted.Step(wA, grads[s]);
        }

        var state = uninterrupted.GetState();
        var wB = (float[])wA.Clone();

        // A fresh optimizer with default settings must take the settings from the state as well.
        Optimizer resumed = name.StartsWith("adam", StringComparison.Ordinal) ? new Adam() : new Sgd();
        resumed.SetState(state);
        Assert.Equal(3, resumed.Iterations);

        for (int s = 3; s < Steps; s++)
        {
            uninterrupted.Step(wA, grads[s]);
            resumed.Step(wB, grads[s]);
        }

        Assert.Equal(Array.ConvertAll(wA, BitConverter.SingleToInt32Bits), Array.ConvertAll(wB, BitConverter.SingleToInt32Bits));
        var a = uninterrupted.GetState();
        var b = resumed.GetState();
        Assert.Equal(a.Kind, b.Kind);
        Assert.Equal(a.Iterations, b.Iterations);
        Assert.Equal(a.Hyperparameters, b.Hyperparameters);
        Assert.Equal(a.Slots.Length, b.Slots.Length);
        for (int k = 0; k < a.Slots.Length; k++)
        {
            Assert.Equal(Array.ConvertAll(a.Slots[k], BitConverter.SingleToInt32Bits), Array.ConvertAll(b.Slots[k], BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void GetState_ReturnsCopies()
    {
        var adam = new Adam();
        var w = new float[] { 1f, 2f };
        adam.Step(w, new float[] { 0.5f, -0.5f });
        var state = adam.GetState();
        float m0 = state.Slots[0][0];
        adam.Step(w, new float[] { 0.5f, -0.5f });
        Assert.Equal(m0, state.Slots[0][0]);
        state.Slots[0][0] = 1000f;
        Assert.NotEqual(1000f, adam.GetState().Slots[0][0]);
    }

    [Fact]
    public void SetState_RejectsOtherKindAndBadSlots()
    {
        var sgdState = new Sgd(momentum: 0.9).GetState();
        var error = Assert.Throws<ModelGenException>(() => new Adam().SetState(sgdState));
        Assert.Contains("'sgd'", error.Message);

        Assert.Throws<ModelGenException>(() => new Sgd().SetState(new Adam().GetState()));
        Assert.Throws<ModelGenException>(() => new Adam().SetState(
            new OptimizerState("adam", 2, [], [new float[3]])));
        Assert.Throws<ModelGenException>(() => new Adam().SetState(
            new OptimizerState("adam", 2, [], [new float[3], new float[4]])));
        Assert.Throws<ModelGenException>(() => new Adam().SetState(
            new OptimizerState("adam", 2, [], [])));
        Assert.Throws<ModelGenException>(() => new Adam().SetState(
            new OptimizerState("adam", 0, [("beta_1", 1.5)], [])));
        Assert.Throws<ModelGenException>(() => new Adam().SetState(
            new OptimizerState("adam", 0, [("amsgrad", 1)], [])));
        Assert.Throws<ModelGenException>(() => new Sgd().SetState(
            new OptimizerState("sgd", 1, [("momentum", 0.0)], [new float[3]])));
        Assert.Throws<ModelGenException>(() => new Sgd().SetState(
            new OptimizerState("sgd", 1, [("momentum", 0.9)], [new float[3], new float[3]])));
    }

    [Fact]
    public void SetState_SlotLengthIsCheckedAgainstTheParametersOnTheNextStep()
    {
        var adam = new Adam();
        adam.SetState(new OptimizerState("adam", 1, [], [new float[3], new float[3]]));
        Assert.Throws<ArgumentException>(() => adam.Step(new float[4], new float[4]));
        adam.Step(new float[3], new float[3]);
        Assert.Equal(2, adam.Iterations);
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void Step_AllocatesNothingAfterTheFirst(string name)
    {
        var optimizer = Create(name);
        var w = new float[1_003];
        var g = new float[1_003];
        Array.Fill(g, 0.25f);
        optimizer.Step(w, g);
        optimizer.Step(w, g);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            optimizer.Step(w, g);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

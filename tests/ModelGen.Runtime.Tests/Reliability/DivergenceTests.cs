namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>
/// An update that would make a weight or an optimizer value NaN or infinite is detected before it is applied: training
/// stops at that step, and the weights and optimizer state are exactly those from before it, as the message says.
/// </summary>
public class DivergenceTests
{
    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(1e30f)]   // finite, but its square is not: Adam's second moment would become infinite
    public void Fit_StepWhoseUpdateWouldNotBeFinite_StopsAtThatStepWithTheStateBeforeIt(float poison)
    {
        var network = new FakeNetwork(poison);
        var data = FakeNetwork.Data(poisoned: 5);

        var error = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(network, data, Options(batchSize: 1, epochs: 2)));

        var (parameters, optimizer) = network.BeforePoison!.Value;
        Assert.Equal(parameters.Select(BitConverter.SingleToInt32Bits), network.Parameters.Select(BitConverter.SingleToInt32Bits));
        var state = network.Optimizer!.GetState();
        Assert.Equal(optimizer!.Iterations, state.Iterations);
        Assert.Equal(optimizer.Slots.Length, state.Slots.Length);
        for (var s = 0; s < state.Slots.Length; s++) Assert.Equal(optimizer.Slots[s], state.Slots[s]);

        Assert.Equal(1, error.Epoch);
        Assert.Equal(state.Iterations + 1, error.Step);
        Assert.Contains("before this step are kept", error.Message);
        Assert.True(network.Parameters.All(float.IsFinite));
    }

    [Fact]
    public void Fit_Sgd_StepWhoseUpdateWouldNotBeFinite_StopsAtThatStepWithTheWeightsBeforeIt()
    {
        var network = new FakeNetwork(float.PositiveInfinity);
        var data = FakeNetwork.Data(poisoned: 3);

        var error = Assert.Throws<TrainingDivergedException>(() =>
            Trainer.Fit(network, data, Options(batchSize: 1, epochs: 1, optimizer: new Sgd(0.01, momentum: 0.9))));

        Assert.Equal(network.BeforePoison!.Value.Parameters, network.Parameters);
        Assert.Equal(network.BeforePoison.Value.Optimizer!.Slots, network.Optimizer!.GetState().Slots);
        Assert.Contains("before this step are kept", error.Message);
    }

    [Fact]
    public void Fit_HealthyGradients_Trains()
    {
        // Guards the tests above: without the poisoned sample the same setup trains every step.
        var network = new FakeNetwork();
        var history = Trainer.Fit(network, FakeNetwork.Data(), Options(batchSize: 1, epochs: 2));

        Assert.Equal(2, history.Epochs);
        Assert.Equal(16, network.Optimizer!.Iterations);
        Assert.True(network.Parameters.All(float.IsFinite));
    }

    [Theory]
    [InlineData(1e39)]    // a finite double, +Inf as a float
    [InlineData(-1e39)]
    public void Adam_LearningRateBeyondFloatRange_IsRefused(double learningRate)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: learningRate));
        Assert.Contains("learning_rate", error.Message);
    }

    [Theory]
    [InlineData(1e39)]
    [InlineData(1e-50)]   // 0 as a float: 0/0 for a parameter whose gradient is 0
    [InlineData(0.0)]
    public void Adam_EpsilonThatIsNotAPositiveFloat_IsRefused(double epsilon)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: epsilon));
        Assert.Contains("epsilon", error.Message);
    }

    [Fact]
    public void Sgd_LearningRateBeyondFloatRange_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(learningRate: 1e39));
    }

    [Fact]
    public void Fit_StepSizeThatOverflowsAFloat_StopsBeforeTheFirstUpdate()
    {
        // lr 1e30 is a float, but with beta_1 this close to 1 Adam's first step size lr·sqrt(1-β2)/(1-β1) ≈ 3e43 is not.
        var network = new FakeNetwork();
        var before = (float[])network.Parameters.Clone();
        var adam = new Adam(learningRate: 1e30, beta1: 1 - 1e-15);

        var error = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(network, FakeNetwork.Data(), Options(batchSize: 4, optimizer: adam)));

        Assert.Equal(before, network.Parameters);
        Assert.Equal(0, adam.Iterations);
        Assert.Equal(1, error.Step);
    }

    private static FitOptions Options(int batchSize, int epochs = 1, Optimizer? optimizer = null) => new()
    {
        Epochs = epochs,
        BatchSize = batchSize,
        Seed = 3,
        Threads = 2,
        Optimizer = optimizer,
        Progress = new ProgressReporter(TextWriter.Null, live: false),
    };
}

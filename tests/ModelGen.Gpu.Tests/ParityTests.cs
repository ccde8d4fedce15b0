namespace ModelGen.Gpu.Tests;

/// <summary>The generated kernels on ILGPU's CPU accelerator against the generated CPU code, layer kind by layer kind.</summary>
[Collection(AcceleratorCollection.Name)]
public sealed class ParityTests(Sessions sessions)
{
    public static TheoryData<string> AllModels() => new(Models.All);

    public static TheoryData<string> TrainableModels() => new(Models.All.Where(m => m != "NoParameters"));

    [Theory]
    [MemberData(nameof(AllModels))]
    public void PredictBatch_MatchesCpuForward(string model)
    {
        var cpu = Models.Randomized(model, seed: 11);
        var gpu = sessions.For(model, cpu.Parameters);
        var data = Models.Data(cpu, Models.BatchFor(model) + 1, seed: 12);

        var expected = Models.CpuPredictBatch(cpu, data.AllFeatures);
        var actual = gpu.PredictBatch(data.AllFeatures);

        Tolerance.AssertNotAllZero(expected, "CPU outputs");
        Tolerance.AssertClose(expected, actual, $"{model} outputs");
    }

    [Theory]
    [MemberData(nameof(TrainableModels))]
    public void ComputeGradients_MatchesCpuLossAndGradient(string model)
    {
        var cpu = Models.Randomized(model, seed: 21);
        var gpu = sessions.For(model, cpu.Parameters);
        var batch = Models.Data(cpu, Models.BatchFor(model), seed: 22);
        var p = cpu.Description.TrainableParameterCount;

        var expected = new float[p];
        var expectedLoss = Trainer.ComputeGradients(cpu, batch, expected, threads: 2);
        var actual = new float[p];
        var actualLoss = gpu.ComputeGradients(batch, actual);

        Tolerance.AssertClose(expectedLoss, actualLoss, $"{model} mean loss");
        foreach (var view in cpu.Description.ParameterViews.Where(v => v.Trainable))
        {
            Tolerance.AssertNotAllZero(view.Of(expected), $"CPU gradient of {view.Name}");
            Tolerance.AssertClose(view.Of(expected), view.Of(actual), $"{model} gradient of {view.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(TrainableModels))]
    public void OneAdamStep_MatchesCpuTrainer(string model)
    {
        var cpu = Models.Randomized(model, seed: 31);
        var gpu = sessions.For(model, cpu.Parameters);
        var batch = Models.Data(cpu, Models.BatchFor(model), seed: 32);
        var options = new FitOptions { Epochs = 1, BatchSize = batch.Count, Seed = 5, Progress = Quiet(), Threads = 2 };

        Trainer.Fit(cpu, batch, options);
        gpu.Fit(batch, options);

        var before = Models.Randomized(model, seed: 31).Parameters;
        Assert.NotEqual(before, gpu.Network.Parameters); // the step moved the weights
        Tolerance.AssertClose(cpu.Parameters, gpu.Network.Parameters, $"{model} parameters after one step");
        var cpuState = cpu.Optimizer!.GetState();
        var gpuState = gpu.Network.Optimizer!.GetState();
        Assert.Equal(1, gpuState.Iterations);
        Tolerance.AssertClose(cpuState.Slots[0], gpuState.Slots[0], $"{model} Adam m");
        Tolerance.AssertClose(cpuState.Slots[1], gpuState.Slots[1], $"{model} Adam v");
        Tolerance.AssertClose(cpu.History!.Loss[0], gpu.Network.History!.Loss[0], $"{model} loss");
        Assert.Equal(cpu.History.Accuracy[0], gpu.Network.History.Accuracy[0]);
    }

    [Theory]
    [InlineData("ConvStack")]
    [InlineData("PaddedStack")]
    [InlineData("NormDrop")]
    [InlineData("GlobalPool")]
    public void Evaluate_MatchesCpu(string model)
    {
        var cpu = Models.Randomized(model, seed: 41);
        var gpu = sessions.For(model, cpu.Parameters);
        var data = Models.Data(cpu, 13, seed: 42);

        var expected = Trainer.Evaluate(cpu, data, threads: 2);
        var actual = gpu.Evaluate(data);

        Tolerance.AssertClose(expected.Loss, actual.Loss, $"{model} evaluation loss");
        Assert.Equal(expected.Accuracy, actual.Accuracy);
    }

    [Theory]
    [InlineData("NormDrop")]
    [InlineData("GlobalPool")]
    public void TwoEpochs_MatchCpu_MovingStatisticsIncluded(string model)
    {
        // Several steps with dropout masks of different epochs and steps, and the moving statistics moving after each.
        var cpu = Models.Randomized(model, seed: 51);
        var gpu = sessions.For(model, cpu.Parameters);
        var data = Models.Data(cpu, 11, seed: 52);
        var options = new FitOptions { Epochs = 2, BatchSize = 4, Seed = 9, Progress = Quiet(), Threads = 2 };

        Trainer.Fit(cpu, data, options);
        gpu.Fit(data, options);

        var before = Models.Randomized(model, seed: 51).Parameters;
        foreach (var view in cpu.Description.ParameterViews.Where(v => !v.Trainable))
        {
            Assert.NotEqual(view.Of(before).ToArray(), view.Of(gpu.Network.Parameters).ToArray()); // the statistics moved
            Tolerance.AssertClose(view.Of(cpu.Parameters), view.Of(gpu.Network.Parameters), $"{model} {view.Name} after two epochs");
        }

        Tolerance.AssertClose(cpu.Parameters, gpu.Network.Parameters, $"{model} parameters after two epochs");
        Assert.Equal(cpu.History!.Accuracy, gpu.Network.History!.Accuracy);
    }

    internal static ProgressReporter Quiet() => new(TextWriter.Null, live: false);
}

using System.Text.RegularExpressions;

namespace ModelGen.Gpu.Tests;

/// <summary>Whole training runs on ILGPU's CPU accelerator against <see cref="Trainer.Fit"/> with the same seed.</summary>
[Collection(AcceleratorCollection.Name)]
public sealed class TrainingTests(Sessions sessions)
{
    [Fact]
    public void Fit_SeveralEpochsWithPartialBatchesAndValidation_MatchesCpuTrainer()
    {
        var cpu = Models.Randomized("ConvStack", seed: 51);
        var gpu = sessions.For("ConvStack", cpu.Parameters);
        var train = Models.Data(cpu, 23, seed: 52); // batches of 5: the last one holds 3
        var validation = Models.Data(cpu, 7, seed: 53);
        var options = new FitOptions { Epochs = 2, BatchSize = 5, Validation = validation, Seed = 9, Progress = ParityTests.Quiet(), Threads = 2 };

        var expected = Trainer.Fit(cpu, train, options);
        var actual = gpu.Fit(train, options);

        Assert.Equal(2, actual.Epochs);
        for (var e = 0; e < 2; e++)
        {
            Tolerance.AssertClose(expected.Loss[e], actual.Loss[e], $"loss of epoch {e + 1}");
            Assert.Equal(expected.Accuracy[e], actual.Accuracy[e]);
            Tolerance.AssertClose(expected.ValLoss[e], actual.ValLoss[e], $"val_loss of epoch {e + 1}");
            Assert.Equal(expected.ValAccuracy[e], actual.ValAccuracy[e]);
        }

        Tolerance.AssertClose(cpu.Parameters, gpu.Network.Parameters, "parameters after 10 steps");
        Assert.Equal(10, gpu.Network.Optimizer!.Iterations);
    }

    [Fact]
    public void Fit_LeNet5TwoSteps_MatchesCpuTrainer()
    {
        var cpu = Models.Create("LeNet5", seed: 61);
        var gpu = sessions.For("LeNet5", cpu.Parameters);
        var train = Models.Data(cpu, 6, seed: 62);
        var options = new FitOptions { Epochs = 1, BatchSize = 3, Seed = 3, Progress = ParityTests.Quiet(), Threads = 2 };

        Trainer.Fit(cpu, train, options);
        gpu.Fit(train, options);

        Tolerance.AssertClose(cpu.Parameters, gpu.Network.Parameters, "LeNet-5 parameters after two Adam steps");
        Tolerance.AssertClose(cpu.History!.Loss[0], gpu.Network.History!.Loss[0], "LeNet-5 loss");
    }

    [Fact]
    public void Fit_ThenResumeOnCpu_MatchesTwoEpochsOnCpu()
    {
        // The GPU copies parameters and Adam's state back, so a CPU epoch continues exactly where it stopped.
        var reference = Models.Randomized("DenseOnly", seed: 71);
        var resumed = Models.Randomized("DenseOnly", seed: 71);
        var gpu = sessions.For("DenseOnly", resumed.Parameters);
        var train = Models.Data(reference, 12, seed: 72);
        FitOptions Options(int epochs) => new() { Epochs = epochs, BatchSize = 4, Seed = 4, Progress = ParityTests.Quiet(), Threads = 2 };

        Trainer.Fit(reference, train, Options(2));
        gpu.Fit(train, Options(1));
        var network = gpu.Network;
        Assert.Equal(3, network.Optimizer!.Iterations);
        Trainer.Fit(network, train, Options(1)); // epoch 2 on the CPU, shuffled as epoch 2

        Assert.Equal(2, network.History!.Epochs);
        Tolerance.AssertClose(reference.Parameters, network.Parameters, "parameters after a GPU epoch and a CPU epoch");
        Tolerance.AssertClose(reference.History!.Loss[1], network.History.Loss[1], "loss of the resumed epoch");
    }

    [Fact]
    public void Fit_DivergingLoss_ThrowsAtTheSameStepAsCpuAndKeepsTheWeightsBeforeIt()
    {
        // Relu layers with weights of about 1e20 after the first step: the second forward pass overflows to NaN.
        var cpu = Models.Randomized("PoolFirst", seed: 81);
        var gpu = sessions.For("PoolFirst", cpu.Parameters);
        var train = Models.Data(cpu, 12, seed: 82);
        FitOptions Options() => new() { Epochs = 1, BatchSize = 4, Seed = 1, Optimizer = new Adam(learningRate: 1e20), Progress = ParityTests.Quiet(), Threads = 2 };

        var expected = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(cpu, train, Options()));
        var actual = Assert.Throws<TrainingDivergedException>(() => gpu.Fit(train, Options()));

        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.Step, actual.Step);
        Assert.True(actual.Step > 1, "the first step should succeed and blow the weights up");
        Assert.Equal(actual.Step - 1, gpu.Network.Optimizer!.Iterations);
        Assert.All(gpu.Network.Parameters, p => Assert.True(float.IsFinite(p)));
        Tolerance.AssertClose(cpu.Parameters, gpu.Network.Parameters, "parameters kept after divergence");
    }

    [Fact]
    public void Fit_UpdateThatWouldOverflow_IsRefusedAtTheSameStepAsCpuAndChangesNothing()
    {
        // Moments of 1e37 and a learning rate of 1e30: the first update's α·m overflows, on both paths, before it is applied.
        var cpu = Models.Randomized("ConvStack", seed: 85);
        var gpu = sessions.For("ConvStack", cpu.Parameters);
        var before = (float[])cpu.Parameters.Clone();
        var train = Models.Data(cpu, 10, seed: 86);
        Adam Huge()
        {
            var adam = new Adam(learningRate: 1e30);
            var p = cpu.Description.ParameterCount;
            adam.SetState(adam.GetState() with { Slots = [Enumerable.Repeat(1e37f, p).ToArray(), new float[p]] });
            return adam;
        }

        FitOptions Options(Adam adam) => new() { Epochs = 1, BatchSize = 5, Seed = 1, Optimizer = adam, Progress = ParityTests.Quiet(), Threads = 2 };
        var cpuAdam = Huge();
        var gpuAdam = Huge();

        var expected = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(cpu, train, Options(cpuAdam)));
        var actual = Assert.Throws<TrainingDivergedException>(() => gpu.Fit(train, Options(gpuAdam)));

        Assert.Equal((expected.Epoch, expected.Step), (actual.Epoch, actual.Step));
        Assert.Equal(1, actual.Step);
        Assert.Contains("The update was not applied", actual.Message);
        Assert.Equal(expected.Message[..expected.Message.IndexOf(" (the largest gradient", StringComparison.Ordinal)],
            actual.Message[..actual.Message.IndexOf(" (the largest gradient", StringComparison.Ordinal)]);
        Assert.Equal(before, gpu.Network.Parameters);
        Assert.Equal(0, gpuAdam.Iterations);
        Assert.All(gpuAdam.GetState().Slots[0], m => Assert.Equal(1e37f, m));
    }

    [Fact]
    public void Fit_WithSgd_ThrowsTypedError()
    {
        var network = Models.Create("DenseOnly", seed: 1);
        var gpu = sessions.For("DenseOnly", network.Parameters);
        var train = Models.Data(network, 4, seed: 2);

        var error = Assert.Throws<GpuExecutionException>(() => gpu.Fit(train, new FitOptions { Optimizer = new Sgd(), Progress = ParityTests.Quiet() }));

        Assert.Contains("Adam only", error.Message);
        Assert.IsAssignableFrom<ModelGenException>(error);
    }

    [Fact]
    public void Fit_CancelledBeforeTheFirstStep_KeepsParametersAndThrows()
    {
        var network = Models.Randomized("DenseOnly", seed: 91);
        var gpu = sessions.For("DenseOnly", network.Parameters);
        var train = Models.Data(network, 8, seed: 92);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            gpu.Fit(train, new FitOptions { BatchSize = 4, Seed = 1, CancellationToken = cancel.Token, Progress = ParityTests.Quiet() }));

        Assert.Equal(network.Parameters, gpu.Network.Parameters);
        Assert.Equal(0, gpu.Network.Optimizer!.Iterations);
    }

    [Fact]
    public void Fit_PrintsTheCpuTrainersProgressLines()
    {
        var cpu = Models.Randomized("DenseOnly", seed: 101);
        var gpu = sessions.For("DenseOnly", cpu.Parameters);
        var train = Models.Data(cpu, 10, seed: 102);
        var validation = Models.Data(cpu, 4, seed: 103);
        var cpuText = new StringWriter();
        var gpuText = new StringWriter();
        FitOptions Options(TextWriter output) => new()
        {
            Epochs = 2, BatchSize = 4, Seed = 2, Validation = validation, Progress = new ProgressReporter(output, live: false), Threads = 2,
        };

        Trainer.Fit(cpu, train, Options(cpuText));
        gpu.Fit(train, Options(gpuText));

        // Same lines, same layout; only the timings and the last digits of the values may differ.
        static string Shape(string text) => Regex.Replace(Regex.Replace(text, @" - \S+ \S+/step", " - T"), @"\d\.\d{4}", "V");
        Assert.Contains("Epoch 2/2", gpuText.ToString());
        Assert.Contains("3/3 [==============================]", gpuText.ToString());
        Assert.Equal(Shape(cpuText.ToString()), Shape(gpuText.ToString()));
    }

    [Fact]
    public void Fit_ThenSaveAndLoad_KeepsParametersOptimizerAndHistory()
    {
        var cpu = Models.Randomized("ConvStack", seed: 111);
        var gpu = sessions.For("ConvStack", cpu.Parameters);
        var train = Models.Data(cpu, 10, seed: 112);
        gpu.Fit(train, new FitOptions { Epochs = 1, BatchSize = 5, Seed = 3, Progress = ParityTests.Quiet() });
        var path = Path.Combine(Path.GetTempPath(), $"modelgen-gpu-{Guid.NewGuid():N}.mgm");
        try
        {
            ((ConvStack)gpu.Network).Save(path);
            var loaded = ConvStack.Load(path);

            Assert.Equal(gpu.Network.Parameters, loaded.Parameters);
            Assert.Equal(2, loaded.Optimizer!.Iterations);
            Assert.Equal(gpu.Network.Optimizer!.GetState().Slots[1], loaded.Optimizer.GetState().Slots[1]);
            Assert.Equal(gpu.Network.History!.Loss, loaded.History!.Loss);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>NaN and infinities are never saved, loaded, trained on or predicted silently; corrupt optimizer states are refused.</summary>
public sealed class NonFiniteStateTests : IDisposable
{
    private readonly Data.TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static ModelFileContent Finite(bool withOptimizer = true)
    {
        var content = Content(Small(), withOptimizer: withOptimizer);
        for (var i = 0; i < content.Parameters.Length; i++)
        {
            if (!float.IsFinite(content.Parameters[i])) content.Parameters[i] = 0.25f;
        }

        return content;
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Save_NonFiniteParameter_IsRefusedAndWritesNothing(float value)
    {
        var path = _folder.File("model.mgm");
        var content = Finite();
        content.Parameters[22] = value;

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Save(path, content));

        Assert.Contains("parameter 22", error.Message);
        Assert.Contains(value.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void Save_NonFiniteOptimizerSlot_IsRefused()
    {
        var content = Finite();
        content.Optimizer!.Slots[1][4] = float.NaN;

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Save(_folder.File("model.mgm"), content));

        Assert.Contains("optimizer", error.Message);
        Assert.Contains("slot 1", error.Message);
    }

    [Fact]
    public void SaveThroughTheNetwork_NonFiniteParameter_IsRefusedNamingTheTensor()
    {
        var network = new FakeNetwork();
        network.Parameters[21 + 1] = float.NaN; // dense_1/bias[1]

        var error = Assert.Throws<ModelFileException>(() => ModelStore.Save(network, _folder.File("model.mgm")));

        Assert.Contains("dense_1/bias[1]", error.Message);
    }

    [Fact]
    public void Load_FileWithANaNWeight_IsRefusedNamingTheTensor()
    {
        var path = _folder.File("model.mgm");
        ModelFile.Save(path, Finite(withOptimizer: false));
        var bytes = File.ReadAllBytes(path);
        var at = 24 + HeaderLength(bytes) + 4 * 21; // dense_1/bias[0]
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, at);
        Reseal(bytes); // a crafted or old file whose checksum is right
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, Small()));
        Assert.Contains("dense_1/bias[0]", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Throws<ModelFileException>(() => ModelFile.Read(path));
    }

    [Fact]
    public void Load_FileWithAnInfiniteAdamMoment_IsRefused()
    {
        var path = _folder.File("model.mgm");
        ModelFile.Save(path, Finite());
        var bytes = File.ReadAllBytes(path);
        var at = 24 + HeaderLength(bytes) + 4 * 23 + 4 * 3; // m[3]
        BitConverter.GetBytes(float.PositiveInfinity).CopyTo(bytes, at);
        Reseal(bytes);
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, Small()));
        Assert.Contains("optimizer", error.Message);
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(-1L)]
    public void LoadInto_AdamStateWithAnImpossibleIterationCount_IsRefused(long iterations)
    {
        var path = _folder.File("model.mgm");
        var content = Finite();
        content.Optimizer = content.Optimizer! with { Iterations = iterations };
        ModelFile.Save(path, content);
        var network = new FakeNetwork();
        var before = (float[])network.Parameters.Clone();

        var error = Assert.Throws<ModelFileException>(() => ModelStore.LoadInto(network, path));

        Assert.Contains("iteration", error.Message);
        Assert.Equal(before, network.Parameters);   // nothing changes when loading fails
        Assert.Null(network.Optimizer);
    }

    [Fact]
    public void AdamSetState_NaNMomentOrNegativeSecondMoment_IsRefused()
    {
        float[] m = [0.1f, float.NaN], v = [0.2f, 0.3f];
        var nan = new OptimizerState("adam", 3, [], [m, v]);
        var negative = new OptimizerState("adam", 3, [], [new float[] { 0.1f, 0.2f }, new float[] { 0.2f, -0.3f }]);
        var huge = new OptimizerState("adam", long.MaxValue, [], [new float[2], new float[2]]);

        Assert.Contains("slot 0", Assert.Throws<ModelGenException>(() => new Adam().SetState(nan)).Message);
        Assert.Contains("negative", Assert.Throws<ModelGenException>(() => new Adam().SetState(negative)).Message);
        Assert.Contains("iteration", Assert.Throws<ModelGenException>(() => new Adam().SetState(huge)).Message);
        Assert.Throws<ModelGenException>(() => new Adam().SetState(new OptimizerState("adam", 0, [("learning_rate", 1e39)], [])));
    }

    [Fact]
    public void SgdSetState_NaNVelocityOrImpossibleIterationCount_IsRefused()
    {
        Assert.Throws<ModelGenException>(() => new Sgd(momentum: 0.9).SetState(new OptimizerState("sgd", 2, [("momentum", 0.9)], [[float.NaN]])));
        Assert.Throws<ModelGenException>(() => new Sgd().SetState(new OptimizerState("sgd", long.MaxValue, [], [])));
    }

    [Fact]
    public void Predict_NetworkWhoseOutputIsNaN_Throws()
    {
        var network = new FakeNetwork { OutputValue = float.NaN };

        var error = Assert.Throws<ModelInputException>(() => Inference.Predict(network, new float[4]));
        Assert.Contains("NaN", error.Message);
        Assert.Throws<ModelInputException>(() => Inference.PredictClass(network, new float[4]));
        Assert.Throws<ModelInputException>(() => Inference.PredictBatch(network, new float[8]));
    }

    [Fact]
    public void EvaluateAndFit_NetworkWithANaNWeight_AreRefusedNamingTheTensor()
    {
        var network = new FakeNetwork();
        network.Parameters[12] = float.NaN; // dense/bias[0]

        var evaluate = Assert.IsAssignableFrom<ModelGenException>(Record.Exception(() => Trainer.Evaluate(network, FakeNetwork.Data())));
        var fit = Assert.IsAssignableFrom<ModelGenException>(Record.Exception(() =>
            Trainer.Fit(network, FakeNetwork.Data(), new FitOptions { Progress = new ProgressReporter(TextWriter.Null, live: false) })));

        Assert.Contains("dense/bias[0]", evaluate.Message);
        Assert.Contains("dense/bias[0]", fit.Message);
    }

    [Fact]
    public void Fit_BatchSizeIntMaxValue_TrainsOneStepPerEpoch()
    {
        var network = new FakeNetwork();

        var history = Trainer.Fit(network, FakeNetwork.Data(), new FitOptions
        {
            BatchSize = int.MaxValue,
            Epochs = 2,
            Progress = new ProgressReporter(TextWriter.Null, live: false),
        });

        Assert.Equal(2, history.Epochs);
        Assert.Equal(2, network.Optimizer!.Iterations);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    [InlineData(20_000)]
    public void FitAndEvaluate_ThreadCountOutOfRange_AreRefusedBeforeStartingThreads(int threads)
    {
        var network = new FakeNetwork();

        var fit = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Trainer.Fit(network, FakeNetwork.Data(), new FitOptions { Threads = threads, Progress = new ProgressReporter(TextWriter.Null, live: false) }));
        var evaluate = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Evaluate(network, FakeNetwork.Data(), threads));

        Assert.Contains("256", fit.Message);
        Assert.Contains("256", evaluate.Message);
    }
}

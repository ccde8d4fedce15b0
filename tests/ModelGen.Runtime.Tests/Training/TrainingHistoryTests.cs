using System.Text.Json;

namespace ModelGen.Runtime.Tests.Training;

public sealed class TrainingHistoryTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mg-history-tests-" + Guid.NewGuid().ToString("N"));

    public TrainingHistoryTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TrainingHistory Sample()
    {
        var history = new TrainingHistory();
        history.AddEpoch(0.2345, 0.9312, 0.1029, 0.9656, 54.25);
        history.AddEpoch(0.0780, 0.9759, 0.1053, 0.9648, 53.5);
        history.AddEpoch(0.0512, 0.9841, 0.0911, 0.9702, 52.0);
        history.Evaluation = new EvaluationResult(0.0401, 0.9860);
        return history;
    }

    [Fact]
    public void ToJson_UsesKerasKeyNames()
    {
        using var document = JsonDocument.Parse(Sample().ToJson());
        var root = document.RootElement;
        Assert.Equal(
            new[] { "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "learning_rate", "evaluation", "stops", "weights_from_epoch" },
            root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(0.0780, root.GetProperty("loss")[1].GetDouble());
        Assert.Equal(0.9702, root.GetProperty("val_accuracy")[2].GetDouble());
        Assert.Equal(52.0, root.GetProperty("seconds")[2].GetDouble());
        Assert.Equal(0.0401, root.GetProperty("evaluation").GetProperty("loss").GetDouble());
        Assert.Equal(0.9860, root.GetProperty("evaluation").GetProperty("accuracy").GetDouble());
    }

    [Fact]
    public void Json_RoundTripsExactly()
    {
        var original = Sample();
        original.Loss.Add(double.NaN);
        original.Accuracy.Add(0.1 + 0.2);
        original.Seconds.Add(double.PositiveInfinity);
        var copy = TrainingHistory.FromJson(original.ToJson());

        Assert.Equal(original.Loss, copy.Loss);
        Assert.Equal(original.Accuracy, copy.Accuracy);
        Assert.Equal(original.ValLoss, copy.ValLoss);
        Assert.Equal(original.ValAccuracy, copy.ValAccuracy);
        Assert.Equal(original.Seconds, copy.Seconds);
        Assert.Equal(original.Evaluation, copy.Evaluation);
        Assert.Equal(original.ToJson(), copy.ToJson());
    }

    [Fact]
    public void Json_WithoutValidationOrEvaluation_RoundTrips()
    {
        var history = new TrainingHistory();
        history.AddEpoch(0.5, 0.8, null, null, 1.0);
        string json = history.ToJson();
        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("evaluation").ValueKind);
            Assert.Equal(0, document.RootElement.GetProperty("val_loss").GetArrayLength());
        }

        var copy = TrainingHistory.FromJson(json);
        Assert.Equal(1, copy.Epochs);
        Assert.Empty(copy.ValLoss);
        Assert.Null(copy.Evaluation);
    }

    [Fact]
    public void FromJson_ReadsKerasHistoryDump()
    {
        var history = TrainingHistory.FromJson("""{"loss": [0.3, 0.1], "accuracy": [0.9, 0.97]}""");
        Assert.Equal(new[] { 0.3, 0.1 }, history.Loss);
        Assert.Equal(new[] { 0.9, 0.97 }, history.Accuracy);
        Assert.Empty(history.Seconds);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"loss\": [0.1,")]
    [InlineData("[1, 2]")]
    [InlineData("{\"loss\": 0.5}")]
    [InlineData("{\"loss\": [\"abc\"]}")]
    [InlineData("{\"evaluation\": {\"loss\": 1}}")]
    public void FromJson_BadInput_ThrowsModelGenException(string json)
    {
        var error = Assert.Throws<ModelGenException>(() => TrainingHistory.FromJson(json));
        Assert.Contains("training history", error.Message);
    }

    [Fact]
    public void Save_WritesFileThatLoadReads_AndLeavesNoTemporaryFiles()
    {
        string path = Path.Combine(_folder, "history.json");
        File.WriteAllText(path, "old content");
        Sample().Save(path);

        var loaded = TrainingHistory.Load(path);
        Assert.Equal(Sample().ToJson(), loaded.ToJson());
        Assert.Equal(new[] { "history.json" }, Directory.GetFiles(_folder).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void Save_ToMissingFolder_ThrowsModelGenException()
    {
        string path = Path.Combine(_folder, "no-such-folder", "history.json");
        var error = Assert.Throws<ModelGenException>(() => Sample().Save(path));
        Assert.Contains("no-such-folder", error.Message);
    }
}

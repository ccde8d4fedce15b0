using LeNet5Sample;
using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Onnx.Tests;

/// <summary>
/// The sample's LeNet-5, trained briefly through its own command line (so its predictions are real digits, and a wrong
/// axis or layout in the export would change classes, not only digits far behind the point), exported with
/// <c>LeNet5 export</c>, and run in ONNX Runtime on all 10,000 MNIST test images.
/// </summary>
public sealed class LeNet5ExportTests(LeNet5ExportTests.TrainedAndExported trained, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<LeNet5ExportTests.TrainedAndExported>
{
    /// <summary><c>train --limit 12000 --epochs 1</c> then <c>export --model DIR</c>, once for the class.</summary>
    public sealed class TrainedAndExported : IDisposable
    {
        public TrainedAndExported()
        {
            Root = Directory.CreateTempSubdirectory("modelgen-onnx-tests-").FullName;
            ModelDirectory = Path.Combine(Root, "lenet5");
            Train = Sample.Run("train", "--limit", "12000", "--epochs", "1", "--seed", "42", "--device", "cpu", "--out", ModelDirectory);
            Export = Sample.Run("export", "--model", ModelDirectory);
            OnnxPath = Path.Combine(ModelDirectory, "model.onnx");
            Mnist = ModelGen.Mnist.Load();
        }

        public string Root { get; }

        public string ModelDirectory { get; }

        public string OnnxPath { get; }

        public (int ExitCode, string Out, string Error) Train { get; }

        public (int ExitCode, string Out, string Error) Export { get; }

        public MnistData Mnist { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder does not make a test wrong.
            }
        }
    }

    [Fact]
    public void ExportedLeNet5_InOnnxRuntime_EqualsModelGenOnAllTenThousandTestImages()
    {
        Assert.True(trained.Train.ExitCode == 0, trained.Train.Error);
        Assert.True(trained.Export.ExitCode == 0, trained.Export.Error);
        Assert.Contains($"to {trained.OnnxPath} (", trained.Export.Out);

        var model = LeNet5.Load(Path.Combine(trained.ModelDirectory, "model.mgm"));
        var test = trained.Mnist.Test;
        Assert.Equal(10_000, test.Count);
        // Scaled as in training (the sample's default, pixels x/255), [N, 28, 28, 1] as Predict takes them.
        var inputs = test.ToDataset(1f / 255f).AllFeatures.ToArray();
        var probabilities = OnnxCheck.AssertMatchesModelGen(File.ReadAllBytes(trained.OnnxPath), model, inputs, "LeNet5", strictArgMax: true);

        // The comparison means something only if the network classifies: the briefly trained model gets most digits right.
        var correct = Enumerable.Range(0, test.Count).Count(i => OnnxCheck.ArgMax(probabilities.AsSpan(i * 10, 10)) == test.Label(i));
        output.WriteLine($"accuracy on the 10,000 test images: {correct / 10_000.0:F4} (ModelGen and ONNX Runtime agree on every class)");
        Assert.InRange(correct, 9_000, 10_000);
    }

    [Fact]
    public void ExportedLeNet5_DeclaresTheInputAndOutputThatPredictHas()
    {
        // As docs/onnx.md loads it.
        using var session = new InferenceSession(trained.OnnxPath);
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("input", input.Key);
        Assert.Equal([-1, 28, 28, 1], input.Value.Dimensions);
        Assert.Equal(typeof(float), input.Value.ElementType);
        var result = Assert.Single(session.OutputMetadata);
        Assert.Equal("probabilities", result.Key);
        Assert.Equal([-1, 10], result.Value.Dimensions);
        Assert.Equal("ModelGen", session.ModelMetadata.ProducerName);
        Assert.Equal(LeNet5.Fingerprint, session.ModelMetadata.CustomMetadataMap["modelgen.fingerprint"]);
    }

    [Fact]
    public void ExportedLeNet5_IsAcceptedByOnnxChecker()
    {
        if (OnnxCheck.PythonWithOnnx is not { } python)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI needs python3 with onnx (Debian python3-onnx): .ci/run installs it.");
            output.WriteLine("python3 with onnx not found: onnx.checker was not run.");
            return;
        }

        Assert.Empty(OnnxCheck.CheckerErrors(python, [trained.OnnxPath]));
    }

    [Fact]
    public void ExportedFile_IsTheExportOfTheSavedModel()
    {
        // The CLI writes exactly what ExportOnnx writes for the loaded model: serialization is deterministic.
        var model = LeNet5.Load(Path.Combine(trained.ModelDirectory, "model.mgm"));
        Assert.Equal(OnnxExport.ToBytes(model), File.ReadAllBytes(trained.OnnxPath));
    }
}

/// <summary>Runs the sample's command line in this process.</summary>
internal static class Sample
{
    public static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

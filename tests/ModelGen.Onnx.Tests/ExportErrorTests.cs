using ModelGen.CompilerServices;

namespace ModelGen.Onnx.Tests;

/// <summary>What the export refuses, and how it says so.</summary>
public sealed class ExportErrorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("modelgen-onnx-errors-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void LayerWithoutOnnxForm_IsAnErrorNamingTheLayer()
    {
        // A layer table as a generator of another version could write it: a kind this exporter does not know.
        var description = GeneratedModel.Describe(
            contractVersion: GeneratedModel.ContractVersion, name: "Demo.Net", inputShape: [4], outputLength: 4, parameterCount: 0, trainableParameterCount: 0,
            microBatch: 1, softmaxOutput: false, architecture: "Input(4) Mystery", fingerprint: "0", summary: "",
            layers: [new LayerDescription("mystery", "Mystery", [4], 0) { InputShape = [4] }], parameterViews: []);
        var error = Assert.Throws<ModelGenException>(() => OnnxExport.ToBytes(new DescribedNetwork(description, [])));
        Assert.Equal("Cannot export Demo.Net to ONNX: layer 'mystery' (Mystery) has no ONNX form in this ModelGen. Export a network without it, or update ModelGen.", error.Message);
    }

    [Fact]
    public void NonFiniteWeight_IsRefused_NamingTheTensor()
    {
        var network = new FlatInput(1);
        FlatInput.ModelDescription.GetView("dense_1/kernel").Of(network.Parameters)[3] = float.NaN;
        var path = Path.Combine(_folder, "nan.onnx");
        var error = Assert.Throws<ModelGenException>(() => network.ExportOnnx(path));
        Assert.Contains("dense_1/kernel[3] is NaN", error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void MissingFolder_IsAnErrorNamingThePath_AndLeavesNothing()
    {
        var path = Path.Combine(_folder, "missing", "model.onnx");
        var error = Assert.Throws<ModelGenException>(() => new FlatInput(1).ExportOnnx(path));
        Assert.StartsWith($"Cannot write the ONNX model to {path}: ", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_folder));
    }

    [Fact]
    public void Export_ReplacesAnOldFileWhole()
    {
        var path = Path.Combine(_folder, "model.onnx");
        File.WriteAllText(path, "an older export, longer than nothing");
        var network = new FlatInput(1);
        network.ExportOnnx(path);
        Assert.Equal(OnnxExport.ToBytes(network), File.ReadAllBytes(path));
        Assert.Equal(["model.onnx"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    private sealed class DescribedNetwork(NetworkDescription description, float[] parameters) : INetwork
    {
        public NetworkDescription Description { get; } = description;

        public float[] Parameters { get; } = parameters;

        public Optimizer? Optimizer { get; set; }

        public TrainingHistory? History { get; set; }

        public IReadOnlyList<string>? ClassNames { get; set; }
    }
}

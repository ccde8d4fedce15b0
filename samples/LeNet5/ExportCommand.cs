using System.Globalization;
using ModelGen;

namespace LeNet5Sample;

internal sealed class ExportArguments
{
    public required string ModelPath { get; init; }
    public string? OnnxPath { get; init; }
}

/// <summary>Writes a saved model as an ONNX model, for ONNX Runtime and every other ONNX consumer.</summary>
internal sealed class ExportCommand(SampleConsole console)
{
    public int Run(ExportArguments a)
    {
        var model = LeNet5.Load(a.ModelPath);
        var settings = TrainingSettings.LoadFor(a.ModelPath);
        // Beside the model: the folder's model.mgm becomes model.onnx.
        var onnxPath = a.OnnxPath ?? Path.ChangeExtension(a.ModelPath, ".onnx");
        model.ExportOnnx(onnxPath);

        var output = OnnxExport.OutputName(LeNet5.ModelDescription);
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exported {a.ModelPath} to {onnxPath} ({new FileInfo(onnxPath).Length:N0} bytes, ONNX opset {OnnxExport.Opset})"));
        console.Out.WriteLine(
            $"input '{OnnxExport.InputName}': float [N, {LeNet5.InputHeight}, {LeNet5.InputWidth}, {LeNet5.InputChannels}], " +
            $"{settings?.InputDescription ?? "pixels x/255"} as in training; output '{output}': float [N, {LeNet5.OutputLength}]");
        return Program.ExitOk;
    }
}

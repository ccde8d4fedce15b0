using System.Globalization;
using System.Text;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Emit;

/// <summary>
/// Keras's model.summary() table for a plan, as plain text, with a column Keras lacks: each layer's multiply-adds per
/// sample. Below the parameter counts, the network's costs: multiply-adds per sample and the memory it needs.
/// </summary>
internal static class SummaryEmitter
{
    private const int NameWidth = 32;
    private const int ShapeWidth = 24;
    private const int ParameterWidth = 15;
    private const int Rule = 84;

    public static string Build(ModelPlan plan)
    {
        var text = new StringBuilder();
        text.Append("Model: \"").Append(plan.ClassName).Append("\"\n");
        text.Append('_', Rule).Append('\n');
        Row(text, "Layer (type)", "Output Shape", "Param #", "MACs");
        text.Append('=', Rule).Append('\n');
        for (var i = 0; i < plan.Layers.Count; i++)
        {
            var layer = plan.Layers[i];
            Row(text, $"{layer.KerasName} ({KerasType(layer.Kind)})", layer.Output.ToKerasString(),
                layer.ParameterCount.ToString("N0", CultureInfo.InvariantCulture), layer.MultiplyAdds.ToString("N0", CultureInfo.InvariantCulture));
            text.Append(i == plan.Layers.Count - 1 ? '=' : '_', Rule).Append('\n');
        }

        text.Append("Total params: ").Append(Count(plan.ParameterCount)).Append('\n');
        text.Append("Trainable params: ").Append(Count(plan.TrainableParameterCount)).Append('\n');
        text.Append("Non-trainable params: ").Append(Count(plan.NonTrainableParameterCount)).Append('\n');
        text.Append('_', Rule).Append('\n');

        var costs = plan.Costs;
        text.Append("Forward multiply-adds per sample: ").Append(Count(costs.ForwardMultiplyAdds)).Append('\n');
        text.Append("Training multiply-adds per sample: ").Append(Count(costs.TrainingMultiplyAdds)).Append(" (forward and backward)\n");
        text.Append("Parameter memory: ").Append(Bytes(costs.ParameterBytes)).Append('\n');
        text.Append("Optimizer state (Adam): ").Append(Bytes(costs.OptimizerStateBytes)).Append('\n');
        text.Append("Activations per sample: ").Append(Bytes(costs.ActivationBytesPerSample)).Append('\n');
        text.Append("Training workspace, batch of ").Append(costs.WorkspaceBatchSize.ToString(CultureInfo.InvariantCulture)).Append(": ")
            .Append(Bytes(costs.WorkspaceBytesPerBatch)).Append('\n');
        text.Append('_', Rule).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// One row; text longer than its column continues on the next lines, as Keras 2.9+ prints
    /// <c>batch_normalization (BatchN</c> / <c>ormalization)</c>: each column keeps at least one space before the next.
    /// </summary>
    private static void Row(StringBuilder text, string name, string shape, string parameters, string multiplyAdds)
    {
        var first = true;
        while (first || name.Length > 0 || shape.Length > 0)
        {
            var nameChunk = Take(ref name, NameWidth - 2);
            var shapeChunk = Take(ref shape, ShapeWidth);
            var line = " " + nameChunk.PadRight(NameWidth - 1) + " " + shapeChunk.PadRight(ShapeWidth) + " "
                + (first ? parameters.PadRight(ParameterWidth) + " " + multiplyAdds : string.Empty);
            text.Append(first ? line : line.TrimEnd()).Append('\n');
            first = false;
        }
    }

    private static string Take(ref string text, int width)
    {
        var chunk = text.Length <= width ? text : text.Substring(0, width);
        text = text.Substring(chunk.Length);
        return chunk;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Exact bytes, and the same in KiB or MiB for reading: 431,144 bytes (421.0 KiB).</summary>
    public static string Bytes(long bytes)
    {
        var exact = Count(bytes) + " bytes";
        if (bytes < 1024) return exact;
        var (value, unit) = bytes < 1024 * 1024 ? (bytes / 1024.0, "KiB") : (bytes / (1024.0 * 1024.0), "MiB");
        return exact + " (" + value.ToString("0.0", CultureInfo.InvariantCulture) + " " + unit + ")";
    }

    public static string KerasType(LayerKind kind) => kind switch
    {
        LayerKind.MaxPool2D => "MaxPooling2D",
        LayerKind.AvgPool2D => "AveragePooling2D",
        _ => kind.ToString(), // BatchNormalization, Dropout and GlobalAveragePooling2D are Keras's names too
    };
}

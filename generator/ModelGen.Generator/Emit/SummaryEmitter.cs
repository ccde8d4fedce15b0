using System.Globalization;
using System.Text;
using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Emit;

/// <summary>Keras's model.summary() table for a plan, as plain text.</summary>
internal static class SummaryEmitter
{
    private const int NameWidth = 32;
    private const int ShapeWidth = 24;
    private const int Rule = 68;

    public static string Build(ModelPlan plan)
    {
        var text = new StringBuilder();
        text.Append("Model: \"").Append(plan.ClassName).Append("\"\n");
        text.Append('_', Rule).Append('\n');
        Row(text, "Layer (type)", "Output Shape", "Param #");
        text.Append('=', Rule).Append('\n');
        for (var i = 0; i < plan.Layers.Count; i++)
        {
            var layer = plan.Layers[i];
            Row(text, $"{layer.KerasName} ({KerasType(layer.Kind)})", layer.Output.ToKerasString(),
                layer.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
            text.Append(i == plan.Layers.Count - 1 ? '=' : '_', Rule).Append('\n');
        }

        text.Append("Total params: ").Append(Count(plan.ParameterCount)).Append('\n');
        text.Append("Trainable params: ").Append(Count(plan.TrainableParameterCount)).Append('\n');
        text.Append("Non-trainable params: ").Append(Count(plan.NonTrainableParameterCount)).Append('\n');
        text.Append('_', Rule).Append('\n');
        return text.ToString();
    }

    private static string Count(int count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// One row; text longer than its column continues on the next lines, as Keras 2.9+ prints
    /// <c>batch_normalization (BatchN</c> / <c>ormalization)</c>: each column keeps at least one space before the next.
    /// </summary>
    private static void Row(StringBuilder text, string name, string shape, string parameters)
    {
        var first = true;
        while (first || name.Length > 0 || shape.Length > 0)
        {
            var nameChunk = Take(ref name, NameWidth - 2);
            var shapeChunk = Take(ref shape, ShapeWidth);
            var line = " " + nameChunk.PadRight(NameWidth - 1) + " " + shapeChunk.PadRight(ShapeWidth) + " " + (first ? parameters : string.Empty);
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

    public static string KerasType(LayerKind kind) => kind switch
    {
        LayerKind.MaxPool2D => "MaxPooling2D",
        LayerKind.AvgPool2D => "AveragePooling2D",
        _ => kind.ToString(), // BatchNormalization, Dropout and GlobalAveragePooling2D are Keras's names too
    };
}

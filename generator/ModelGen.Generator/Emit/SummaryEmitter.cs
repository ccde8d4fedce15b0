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

        var total = plan.ParameterCount.ToString("N0", CultureInfo.InvariantCulture);
        text.Append("Total params: ").Append(total).Append('\n');
        text.Append("Trainable params: ").Append(total).Append('\n');
        text.Append("Non-trainable params: 0\n");
        text.Append('_', Rule).Append('\n');
        return text.ToString();
    }

    private static void Row(StringBuilder text, string name, string shape, string parameters)
    {
        text.Append(' ').Append(name.PadRight(NameWidth - 1)).Append(' ')
            .Append(shape.PadRight(ShapeWidth)).Append(' ')
            .Append(parameters).Append('\n');
    }

    public static string KerasType(LayerKind kind) => kind switch
    {
        LayerKind.MaxPool2D => "MaxPooling2D",
        LayerKind.AvgPool2D => "AveragePooling2D",
        _ => kind.ToString(),
    };
}

using System.Globalization;
using System.Text;
using ModelGen;

namespace LeNet5Sample;

internal sealed class EvaluateArguments
{
    public required string ModelPath { get; init; }
    public string? DataDirectory { get; init; }
    public bool All { get; init; }
    public int? Threads { get; init; }
    public string? MnistDirectory { get; init; }
}

/// <summary>Loss, accuracy and a confusion matrix of a saved model on the final-evaluation images (or another IDX set).</summary>
internal sealed class EvaluateCommand(SampleConsole console)
{
    public int Run(EvaluateArguments a)
    {
        var output = console.Out;
        var model = LeNet5.Load(a.ModelPath);
        var settings = TrainingSettings.LoadFor(a.ModelPath);
        var scale = settings?.InputScale ?? 1f / 255f;

        var data = a.DataDirectory is { } dir ? SampleData.LoadDirectory(dir) : SampleData.LoadMnist(console, a.MnistDirectory);
        var source = a.DataDirectory ?? "MNIST";
        if (data.Test.Rows != LeNet5.InputHeight || data.Test.Columns != LeNet5.InputWidth)
        {
            throw new SampleException(
                $"{source}: the test images are {data.Test.Rows}x{data.Test.Columns} pixels but LeNet5 takes {LeNet5.InputHeight}x{LeNet5.InputWidth}; pass a folder of 28x28 images.");
        }

        var set = a.All ? data.Test : data.FinalEvaluation;
        var first = a.All ? 0 : data.Test.Count - data.FinalEvaluation.Count;
        var dataset = set.ToDataset(scale);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Evaluating {a.ModelPath} on {source} test images {first}-{first + set.Count - 1} ({set.Count:N0} images, {settings?.InputDescription ?? "pixels x/255"})"));

        var result = Trainer.Evaluate(model, dataset, a.Threads);
        output.WriteLine($"loss {ProgressReporter.FormatValue(result.Loss)} - accuracy {ProgressReporter.FormatValue(result.Accuracy)}");

        var classes = LeNet5.OutputLength;
        var outputs = model.PredictBatch(dataset.AllFeatures);
        var matrix = new int[classes, classes];
        for (var i = 0; i < set.Count; i++)
        {
            var row = outputs.AsSpan(i * classes, classes);
            var predicted = 0;
            for (var c = 1; c < classes; c++)
            {
                if (row[c] > row[predicted]) predicted = c;
            }

            matrix[set.Label(i), predicted]++;
        }

        output.WriteLine();
        output.Write(FormatConfusionMatrix(matrix));
        return Program.ExitOk;
    }

    /// <summary>
    /// The matrix with rows = true label and columns = predicted label, right-aligned, each row followed by its total
    /// and recall (the fraction of that class predicted right).
    /// </summary>
    internal static string FormatConfusionMatrix(int[,] matrix)
    {
        var classes = matrix.GetLength(0);
        var width = 5;
        foreach (var count in matrix) width = Math.Max(width, count.ToString(CultureInfo.InvariantCulture).Length + 1);
        var sb = new StringBuilder();
        sb.AppendLine("Confusion matrix (rows: true label, columns: predicted label):");
        sb.Append("true\\pred |");
        for (var c = 0; c < classes; c++) sb.Append(c.ToString(CultureInfo.InvariantCulture).PadLeft(width + 1));
        sb.AppendLine(" |  total  recall");
        sb.Append(new string('-', 10)).Append('+').Append(new string('-', classes * (width + 1) + 1)).AppendLine("+---------------");
        for (var t = 0; t < classes; t++)
        {
            var total = 0;
            sb.Append(t.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append(" |");
            for (var p = 0; p < classes; p++)
            {
                sb.Append(matrix[t, p].ToString(CultureInfo.InvariantCulture).PadLeft(width + 1));
                total += matrix[t, p];
            }

            var recall = total == 0 ? "-" : (100.0 * matrix[t, t] / total).ToString("F2", CultureInfo.InvariantCulture) + "%";
            sb.Append(" |").Append(total.ToString(CultureInfo.InvariantCulture).PadLeft(7)).Append(recall.PadLeft(8)).AppendLine();
        }

        return sb.ToString();
    }
}

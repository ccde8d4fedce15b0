using ModelGen;
using ScottPlot;

namespace LeNet5Sample;

/// <summary>The <c>predict --png</c> picture: the digit, scaled up, beside a bar chart of the ten probabilities.</summary>
internal static class PredictionPlot
{
    public static void SavePng(string path, ReadOnlySpan<byte> image, int rows, int columns, float[] probabilities, int predicted, string title)
    {
        var multiplot = new Multiplot();
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.RemovePlot(multiplot.GetPlot(0));
        multiplot.AddPlot(DigitPanel(image, rows, columns, title));
        multiplot.AddPlot(ProbabilityPanel(probabilities, predicted));

        byte[] png;
        using (var rendered = multiplot.Render(900, 420))
        {
            png = rendered.GetImageBytes(ImageFormat.Png);
        }

        try
        {
            AtomicFile.WriteAllBytes(path, png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"--png: cannot write {path}: {e.Message} Check that the folder exists and is writable (and has free space).", e);
        }
    }

    private static Plot DigitPanel(ReadOnlySpan<byte> image, int rows, int columns, string title)
    {
        var intensities = new double[rows, columns];
        for (var y = 0; y < rows; y++)
        {
            for (var x = 0; x < columns; x++) intensities[y, x] = image[y * columns + x];
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(intensities);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        heatmap.ManualRange = new ScottPlot.Range(0, 255);
        plot.HideAxesAndGrid();
        // Hiding the axes hides the title panel too; the digit's caption is wanted.
        plot.Title(title);
        plot.Axes.Title.IsVisible = true;
        plot.Axes.SquareUnits();
        return plot;
    }

    private static Plot ProbabilityPanel(float[] probabilities, int predicted)
    {
        var plot = new Plot();
        plot.Title(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Predicted: {predicted} ({probabilities[predicted] * 100:F1}%)"));
        var bars = new List<Bar>();
        for (var digit = 0; digit < probabilities.Length; digit++)
        {
            bars.Add(new Bar
            {
                Position = digit,
                Value = probabilities[digit],
                FillColor = digit == predicted ? Colors.C0 : Colors.Gray,
            });
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(
            Enumerable.Range(0, probabilities.Length).Select(d => (double)d).ToArray(),
            Enumerable.Range(0, probabilities.Length).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.XLabel("Digit");
        plot.YLabel("Probability");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.Axes.SetLimitsX(-0.7, probabilities.Length - 0.3);
        return plot;
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace ModelGen;

/// <summary>Draws a <see cref="TrainingHistory"/> as a PNG: loss per epoch on the left, accuracy per epoch on the right.</summary>
public static class HistoryPlot
{
    /// <summary>
    /// Saves two side-by-side charts of <paramref name="history"/>: loss and val_loss per epoch, accuracy and val_accuracy
    /// per epoch (validation series only when recorded), with axis labels, legends and titles. Non-finite values (a
    /// diverged loss) are left out of the lines. Written through a temporary file and a rename.
    /// </summary>
    /// <param name="history">The history to draw; it needs at least one epoch.</param>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="width">Image width in pixels (both charts together).</param>
    /// <param name="height">Image height in pixels.</param>
    /// <exception cref="ModelGenException">The history has no epochs, or the file cannot be written.</exception>
    public static void SavePng(TrainingHistory history, string path, int width = 900, int height = 400)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 100);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 100);
        if (history.Epochs == 0)
        {
            throw new ModelGenException("The training history has no epochs, so there is nothing to plot; train for at least one epoch first.");
        }

        byte[] png = Render(history, width, height);
        string full = Path.GetFullPath(path);
        try
        {
            AtomicFile.WriteAllBytes(full, png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ModelGenException($"Cannot write the history plot to '{full}': {e.Message} Check that the folder exists and is writable (and has free space).", e);
        }
    }

    private static byte[] Render(TrainingHistory history, int width, int height)
    {
        var multiplot = new Multiplot();
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.RemovePlot(multiplot.GetPlot(0));
        multiplot.AddPlot(Panel("Loss per epoch", "Loss", history.Loss, "loss", history.ValLoss, "val_loss", history.Epochs, Alignment.UpperRight));
        multiplot.AddPlot(Panel("Accuracy per epoch", "Accuracy", history.Accuracy, "accuracy", history.ValAccuracy, "val_accuracy", history.Epochs, Alignment.LowerRight));
        using var image = multiplot.Render(width, height);
        return image.GetImageBytes(ImageFormat.Png);
    }

    private static Plot Panel(string title, string yLabel, List<double> train, string trainName, List<double> validation, string validationName, int epochs, Alignment legend)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("Epoch");
        plot.YLabel(yLabel);
        AddSeries(plot, train, trainName, Colors.C0);
        if (validation.Count > 0)
        {
            AddSeries(plot, validation, validationName, Colors.C1);
        }

        // Whole epochs only; a fractional epoch tick would suggest data that does not exist.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.SetLimitsX(epochs == 1 ? 0.5 : 1 - 0.05 * (epochs - 1), epochs == 1 ? 1.5 : epochs + 0.05 * (epochs - 1));
        // A flat series (one epoch) would otherwise get an arbitrary span around its value (negative loss, accuracy 2).
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        foreach (double y in train.Concat(validation))
        {
            if (double.IsFinite(y))
            {
                low = Math.Min(low, y);
                high = Math.Max(high, y);
            }
        }

        if (low <= high && high - low < 1e-9)
        {
            double pad = Math.Max(Math.Abs(low) * 0.05, 1e-3);
            plot.Axes.SetLimitsY(low - pad, high + pad);
        }

        // Loss falls and accuracy rises, so these corners are usually empty.
        plot.ShowLegend(legend);
        return plot;
    }

    private static void AddSeries(Plot plot, List<double> values, string name, Color color)
    {
        var xs = new List<double>(values.Count);
        var ys = new List<double>(values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            if (double.IsFinite(values[i]))
            {
                xs.Add(i + 1);
                ys.Add(values[i]);
            }
        }

        var scatter = plot.Add.Scatter(xs, ys, color);
        scatter.LegendText = name;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 6;
    }
}

using System;
using System.Collections.Generic;
using System.IO;

namespace ModelGen;

/// <summary>
/// An MNIST-style data set: a training set and a test set, with the split of the Keras LeNet-5 tutorial
/// (validation = first half of the test set, final evaluation = second half; 5,000 each for MNIST).
/// </summary>
public sealed class MnistData
{
    /// <summary>The four standard file names (without <c>.gz</c>): train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];

    /// <summary>Wraps a training and a test set and splits the test set in two halves.</summary>
    public MnistData(ImageSet train, ImageSet test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        Train = train;
        Test = test;
        var half = test.Count / 2;
        Validation = test.Slice(0, half);
        FinalEvaluation = test.Slice(half, test.Count - half);
    }

    /// <summary>The training set (60,000 images for MNIST).</summary>
    public ImageSet Train { get; }

    /// <summary>The whole test set (10,000 images for MNIST).</summary>
    public ImageSet Test { get; }

    /// <summary>The first half of <see cref="Test"/> (5,000 images for MNIST), used for validation during training.</summary>
    public ImageSet Validation { get; }

    /// <summary>The second half of <see cref="Test"/> (5,000 images for MNIST), kept for the final evaluation.</summary>
    public ImageSet FinalEvaluation { get; }

    /// <summary>
    /// Loads the four standard files (<see cref="FileNames"/>, each raw or with <c>.gz</c>) from
    /// <paramref name="directory"/>: MNIST, Fashion-MNIST or any data set in the same layout. No checksum is checked.
    /// </summary>
    /// <exception cref="DataUnavailableException">A file is missing.</exception>
    /// <exception cref="IdxFormatException">A file is malformed or the counts differ.</exception>
    /// <exception cref="LabelOutOfRangeException">A label is not below <paramref name="classCount"/>.</exception>
    public static MnistData LoadDirectory(string directory, int classCount = 10)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var paths = new string[FileNames.Count];
        var missing = new List<string>();
        for (var i = 0; i < paths.Length; i++)
        {
            paths[i] = FindFile(directory, FileNames[i]) ?? "";
            if (paths[i].Length == 0) missing.Add(FileNames[i]);
        }
        if (missing.Count > 0)
        {
            var where = Directory.Exists(directory) ? $"{directory} lacks" : $"{directory} does not exist; it should hold";
            throw new DataUnavailableException(
                $"{where} {string.Join(", ", missing)} (each raw or with .gz). " +
                $"Put the four files {string.Join(", ", FileNames)} in that folder.");
        }
        return new MnistData(
            ImageSet.LoadIdx(paths[0], paths[1], classCount),
            ImageSet.LoadIdx(paths[2], paths[3], classCount));
    }

    /// <summary>The path of <paramref name="name"/> or <paramref name="name"/>.gz in <paramref name="directory"/>, raw preferred; null when neither exists.</summary>
    internal static string? FindFile(string directory, string name)
    {
        var raw = Path.Combine(directory, name);
        if (File.Exists(raw)) return raw;
        var gz = raw + ".gz";
        return File.Exists(gz) ? gz : null;
    }
}

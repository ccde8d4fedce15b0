using System;
using System.IO;

namespace ModelGen;

/// <summary>
/// Labelled 8-bit grayscale images, as MNIST stores them: <see cref="Count"/> images of
/// <see cref="Rows"/> x <see cref="Columns"/> pixels, one after the other, and one class label per image.
/// </summary>
public sealed class ImageSet
{
    /// <summary>
    /// Wraps <paramref name="pixels"/> (count x rows x columns bytes, row-major) and <paramref name="labels"/> (count bytes).
    /// Every label must be below <paramref name="classCount"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not agree.</exception>
    /// <exception cref="LabelOutOfRangeException">A label is not below <paramref name="classCount"/>.</exception>
    public ImageSet(byte[] pixels, byte[] labels, int rows, int columns, int classCount = 10)
        : this(pixels, labels, rows, columns, classCount, "labels")
    {
    }

    internal ImageSet(byte[] pixels, byte[] labels, int rows, int columns, int classCount, string labelSource)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (rows <= 0 || columns <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Image size {rows}x{columns} must be positive.");
        if (classCount is <= 0 or > 256) throw new ArgumentOutOfRangeException(nameof(classCount), $"Class count {classCount} must be 1..256 for byte labels.");
        if ((long)labels.Length * rows * columns != pixels.Length)
        {
            throw new ArgumentException(
                $"{pixels.Length} pixels do not make {labels.Length} images of {rows}x{columns}.", nameof(pixels));
        }
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classCount) throw new LabelOutOfRangeException(labelSource, i, labels[i], classCount);
        }
        Pixels = pixels;
        Labels = labels;
        Rows = rows;
        Columns = columns;
        ClassCount = classCount;
    }

    /// <summary>Number of images (and labels).</summary>
    public int Count => Labels.Length;

    /// <summary>Pixel rows per image.</summary>
    public int Rows { get; }

    /// <summary>Pixel columns per image.</summary>
    public int Columns { get; }

    /// <summary>Pixels per image (<see cref="Rows"/> x <see cref="Columns"/>).</summary>
    public int ImageSize => Rows * Columns;

    /// <summary>Number of classes; every label is below it.</summary>
    public int ClassCount { get; }

    /// <summary>All pixels, <see cref="Count"/> x <see cref="Rows"/> x <see cref="Columns"/> bytes, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>One label per image, each below <see cref="ClassCount"/>.</summary>
    public byte[] Labels { get; }

    /// <summary>The pixels of image <paramref name="index"/>, row-major.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"Image {index} is outside 0..{Count - 1}.");
        return Pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>The label of image <paramref name="index"/>.</summary>
    public int Label(int index) => Labels[index];

    /// <summary>A copy of images [start, start + count).</summary>
    public ImageSet Slice(int start, int count)
    {
        if (start < 0 || count < 0 || (long)start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {(long)start + count}) is outside 0..{Count}.");
        }
        return new ImageSet(
            Pixels.AsSpan(start * ImageSize, count * ImageSize).ToArray(),
            Labels.AsSpan(start, count).ToArray(),
            Rows, Columns, ClassCount, "labels");
    }

    /// <summary>
    /// Converts to float features for a network: each pixel times <paramref name="scale"/> (1/255 maps to [0, 1];
    /// 1 keeps the raw 0..255 values, as the original Keras tutorial fed them).
    /// </summary>
    public Dataset ToDataset(float scale = 1f / 255f) => Dataset.FromBytes(Pixels, Labels, ImageSize, scale);

    /// <summary>
    /// Loads an images file (3 dimensions: count x rows x columns) and a labels file (1 dimension: count), each IDX,
    /// raw or gzip.
    /// </summary>
    /// <exception cref="IdxFormatException">A file is malformed, has the wrong rank, or the counts differ.</exception>
    /// <exception cref="LabelOutOfRangeException">A label is not below <paramref name="classCount"/>.</exception>
    /// <exception cref="DataUnavailableException">A file does not exist or cannot be opened.</exception>
    public static ImageSet LoadIdx(string imagesPath, string labelsPath, int classCount = 10)
    {
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        return FromIdx(images, imagesPath, labels, labelsPath, classCount);
    }

    internal static ImageSet FromIdx(IdxArray images, string imagesName, IdxArray labels, string labelsName, int classCount)
    {
        if (images.Dimensions.Length != 3)
        {
            throw new IdxFormatException(imagesName,
                $"an images file has 3 dimensions (count x rows x columns), this one has {images.Dimensions.Length} ({Idx.FormatDims(images.Dimensions)}). " +
                "Check that the images and labels paths are not swapped.");
        }
        if (labels.Dimensions.Length != 1)
        {
            throw new IdxFormatException(labelsName,
                $"a labels file has 1 dimension (count), this one has {labels.Dimensions.Length} ({Idx.FormatDims(labels.Dimensions)}). " +
                "Check that the images and labels paths are not swapped.");
        }
        if (images.Dimensions[0] != labels.Dimensions[0])
        {
            throw new IdxFormatException(labelsName,
                $"holds {labels.Dimensions[0]} labels but {Path.GetFileName(imagesName)} holds {images.Dimensions[0]} images. " +
                "The two files must come from the same set (e.g. both train or both t10k).");
        }
        return new ImageSet(images.Data, labels.Data, images.Dimensions[1], images.Dimensions[2], classCount, labelsName);
    }
}

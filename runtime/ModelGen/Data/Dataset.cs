using System;

namespace ModelGen;

/// <summary>
/// Samples ready for a network: float features, one sample after the other, and an integer class label per sample.
/// </summary>
public sealed class Dataset
{
    private readonly float[] _features;
    private readonly int[] _labels;
    private readonly int _offset;

    /// <summary>Wraps <paramref name="features"/> (count x sampleLength floats) and <paramref name="labels"/> (count).</summary>
    public Dataset(float[] features, int[] labels, int sampleLength)
        : this(features, labels, sampleLength, 0, labels.Length)
    {
        if (sampleLength <= 0) throw new ArgumentOutOfRangeException(nameof(sampleLength), "Sample length must be positive.");
        if ((long)labels.Length * sampleLength != features.Length)
        {
            throw new ArgumentException(
                $"{features.Length} feature values do not make {labels.Length} samples of {sampleLength} values.", nameof(features));
        }
    }

    private Dataset(float[] features, int[] labels, int sampleLength, int offset, int count)
    {
        _features = features;
        _labels = labels;
        SampleLength = sampleLength;
        _offset = offset;
        Count = count;
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per sample.</summary>
    public int SampleLength { get; }

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Features(int index) =>
        _features.AsSpan((_offset + index) * SampleLength, SampleLength);

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[_offset + index];

    /// <summary>All features of this dataset, contiguous.</summary>
    public ReadOnlySpan<float> AllFeatures => _features.AsSpan(_offset * SampleLength, Count * SampleLength);

    /// <summary>All labels of this dataset.</summary>
    public ReadOnlySpan<int> AllLabels => _labels.AsSpan(_offset, Count);

    /// <summary>
    /// What each label stands for (label i is <c>ClassNames[i]</c>), e.g. the subfolders an image folder was loaded from;
    /// null when the classes are unnamed. <c>Fit</c> saves them with the model, so that predictions can be named.
    /// </summary>
    /// <exception cref="ArgumentException">A name is null or empty, or two names are the same.</exception>
    public IReadOnlyList<string>? ClassNames
    {
        get => _classNames;
        init => _classNames = value is null ? null : CheckClassNames(value);
    }

    private readonly string[]? _classNames;

    /// <summary>A copy of <paramref name="names"/> after checking that every name is there and unique.</summary>
    internal static string[] CheckClassNames(IReadOnlyList<string> names)
    {
        var copy = new string[names.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < copy.Length; i++)
        {
            if (string.IsNullOrEmpty(names[i])) throw new ArgumentException($"Class name {i} is empty; every class needs a name.", nameof(names));
            if (!seen.Add(names[i])) throw new ArgumentException($"The class name '{names[i]}' appears twice; class names must be unique.", nameof(names));
            copy[i] = names[i];
        }

        return copy;
    }

    /// <summary>Samples [start, start + count) without copying.</summary>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + count}) is outside 0..{Count}.");
        }
        return new Dataset(_features, _labels, SampleLength, _offset + start, count) { ClassNames = _classNames };
    }

    /// <summary>
    /// Converts 8-bit images (count x sampleLength bytes) to floats multiplied by <paramref name="scale"/>
    /// (1/255 maps pixels to [0, 1]; 1 keeps the raw 0..255 values as the original Keras tutorial fed them).
    /// </summary>
    public static Dataset FromBytes(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int sampleLength, float scale = 1f / 255f)
    {
        if (sampleLength <= 0 || pixels.Length != labels.Length * sampleLength)
        {
            throw new ArgumentException($"{pixels.Length} pixels do not make {labels.Length} images of {sampleLength} pixels.", nameof(pixels));
        }
        var features = new float[pixels.Length];
        for (var i = 0; i < pixels.Length; i++) features[i] = pixels[i] * scale;
        var ints = new int[labels.Length];
        for (var i = 0; i < labels.Length; i++) ints[i] = labels[i];
        return new Dataset(features, ints, sampleLength);
    }
}

using System;
using System.Collections.Generic;

namespace ModelGen;

/// <summary>An IDX file (MNIST's format) is malformed: wrong magic, unsupported type, truncated, trailing bytes, corrupt gzip.</summary>
public sealed class IdxFormatException : ModelGenException
{
    /// <summary>Creates the exception for <paramref name="fileName"/>; the message is "<c>fileName: problem</c>".</summary>
    public IdxFormatException(string fileName, string problem)
        : base($"{fileName}: {problem}")
    {
        FileName = fileName;
    }

    /// <summary>Creates the exception for <paramref name="fileName"/> with the error that revealed the problem.</summary>
    public IdxFormatException(string fileName, string problem, Exception inner)
        : base($"{fileName}: {problem}", inner)
    {
        FileName = fileName;
    }

    /// <summary>The file (or stream name) that is malformed.</summary>
    public string FileName { get; }
}

/// <summary>A label is not a valid class index (for MNIST: not 0..9).</summary>
public sealed class LabelOutOfRangeException : ModelGenException
{
    /// <summary>Creates the exception for the label <paramref name="label"/> found at <paramref name="index"/> of <paramref name="source"/>.</summary>
    public LabelOutOfRangeException(string source, int index, int label, int classCount)
        : base($"{source}: label {label} at index {index} is out of range: labels must be 0..{classCount - 1} for {classCount} classes. " +
               "Check that the labels belong to this data set, or pass the right class count.")
    {
        Index = index;
        Label = label;
        ClassCount = classCount;
    }

    /// <summary>Index of the first offending label.</summary>
    public int Index { get; }

    /// <summary>The offending label value.</summary>
    public int Label { get; }

    /// <summary>Number of classes the labels were checked against.</summary>
    public int ClassCount { get; }
}

/// <summary>
/// A data set could not be found or fetched from any source. The message lists every source tried with its
/// error and says how to provide the data.
/// </summary>
public sealed class DataUnavailableException : ModelGenException
{
    /// <summary>Creates the exception with a message that says what is missing and what to do.</summary>
    public DataUnavailableException(string message)
        : this(message, Array.Empty<string>())
    {
    }

    /// <summary>Creates the exception with the list of attempts (one line each: source and error).</summary>
    public DataUnavailableException(string message, IReadOnlyList<string> attempts)
        : base(message)
    {
        Attempts = attempts;
    }

    /// <summary>Each source that was tried, with its outcome, in the order tried.</summary>
    public IReadOnlyList<string> Attempts { get; }
}

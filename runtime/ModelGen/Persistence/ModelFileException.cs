using System;

namespace ModelGen;

/// <summary>Why a model file could not be saved or loaded.</summary>
public enum ModelFileError
{
    /// <summary>The file (or its folder) does not exist.</summary>
    NotFound,

    /// <summary>The file does not start with the ModelGen model-file signature, or the path is a folder, FIFO, pipe or device.</summary>
    NotAModelFile,

    /// <summary>The file is shorter than its header says (empty, or cut off by an interrupted copy or download).</summary>
    Truncated,

    /// <summary>The file has the right length but its content is damaged: the checksum or the structure does not check out.</summary>
    Corrupt,

    /// <summary>The file was written in a newer format version than this build reads.</summary>
    NewerFormat,

    /// <summary>The file holds weights of another network architecture.</summary>
    ArchitectureMismatch,

    /// <summary>The file holds a different number of parameters than the running model has.</summary>
    ParameterCountMismatch,

    /// <summary>The file could not be written (permissions, a file where a folder should be, disk full, ...).</summary>
    Unwritable,

    /// <summary>The file exists but could not be read (permissions, I/O error).</summary>
    Unreadable,

    /// <summary>A parameter or optimizer value is NaN or infinite: such a model is neither saved nor loaded.</summary>
    NonFiniteValue,
}

/// <summary>A model file could not be saved or loaded; <see cref="Reason"/> says why and the message says what to do.</summary>
public sealed class ModelFileException : ModelGenException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">What went wrong.</param>
    /// <param name="filePath">The model file's path as the caller gave it.</param>
    /// <param name="message">Names the file, says what is wrong and what to do.</param>
    public ModelFileException(ModelFileError reason, string filePath, string message)
        : base(message)
    {
        Reason = reason;
        FilePath = filePath;
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    /// <param name="reason">What went wrong.</param>
    /// <param name="filePath">The model file's path as the caller gave it.</param>
    /// <param name="message">Names the file, says what is wrong and what to do.</param>
    /// <param name="inner">The underlying error (I/O, permissions, ...).</param>
    public ModelFileException(ModelFileError reason, string filePath, string message, Exception inner)
        : base(message, inner)
    {
        Reason = reason;
        FilePath = filePath;
    }

    /// <summary>What went wrong.</summary>
    public ModelFileError Reason { get; }

    /// <summary>The model file's path as the caller gave it.</summary>
    public string FilePath { get; }
}

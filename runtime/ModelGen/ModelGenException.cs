using System;

namespace ModelGen;

/// <summary>Base of every error ModelGen reports for something the caller can fix (bad data, bad file, bad argument).</summary>
public class ModelGenException : Exception
{
    /// <summary>Creates the exception with a message that says what is wrong and what to do.</summary>
    public ModelGenException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public ModelGenException(string message, Exception inner) : base(message, inner) { }
}

namespace ModelGen;

/// <summary>Input that does not fit the model: wrong sample length, a label out of range, NaN or infinity.</summary>
public sealed class ModelInputException : ModelGenException
{
    /// <summary>Creates the exception with a message that says what is wrong and what to do.</summary>
    public ModelInputException(string message) : base(message) { }

    internal static ModelInputException WrongInputLength(int actual, int expected) =>
        new($"The input has {actual} values but the model takes {expected} per sample; pass one sample of exactly {expected} values (images flattened channels-last).");

    internal static ModelInputException LabelOutOfRange(int label, int classes, int? index) =>
        new($"Label {label}{(index is { } i ? $" of sample {i}" : string.Empty)} is out of range: the model has {classes} outputs, so labels must be 0..{classes - 1}.");

    internal static ModelInputException NotFinite(string what, int sample, int position, float value) =>
        new($"{what}: sample {sample} holds {value} at position {position}; inputs must be finite numbers. Clean or rescale the data.");
}

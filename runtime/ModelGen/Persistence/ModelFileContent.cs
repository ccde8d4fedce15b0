using System;

namespace ModelGen;

/// <summary>Everything a model file holds: the weights, the architecture they belong to, and optionally the optimizer state and training history.</summary>
/// <remarks>
/// <see cref="ModelFile.Save(string, ModelFileContent)"/> writes exactly these values and <see cref="ModelFile.Read(string)"/> returns them bit for bit
/// (parameters and optimizer slots included, negative zeros and subnormals too). Every parameter and slot value must be
/// finite: NaN and infinities are refused on save and on read.
/// </remarks>
public sealed class ModelFileContent
{
    /// <summary>Full name of the model class that saved the file, e.g. <c>MyApp.LeNet5</c>.</summary>
    public string ModelType { get; set; } = string.Empty;

    /// <summary>Architecture fingerprint (<see cref="NetworkDescription.Fingerprint"/>): loading refuses a file whose fingerprint differs from the running model's.</summary>
    public string Fingerprint { get; set; } = string.Empty;

    /// <summary>Canonical layer-spec text (<see cref="NetworkDescription.Architecture"/>), kept so that a mismatch can name both architectures.</summary>
    public string Architecture { get; set; } = string.Empty;

    /// <summary>Number of parameters, trainable and non-trainable; must equal the length of <see cref="Parameters"/>.</summary>
    public int ParameterCount { get; set; }

    /// <summary>
    /// Number of trainable parameters, the first ones of <see cref="Parameters"/> (the ones optimizer slots cover); when
    /// not set, all of them (<see cref="ParameterCount"/>). Files of networks whose parameters are all trainable do not
    /// store it, so they read as before.
    /// </summary>
    public int TrainableParameterCount
    {
        get => _trainableParameterCount ?? ParameterCount;
        set => _trainableParameterCount = value;
    }

    private int? _trainableParameterCount;

    /// <summary>All parameters, laid out as the model's <see cref="NetworkDescription.ParameterViews"/> say: the trainable ones, then non-trainable state such as BatchNormalization's moving statistics.</summary>
    public float[] Parameters { get; set; } = [];

    /// <summary>Optimizer state to resume training with, or <see langword="null"/> for weights only. Every slot must be as long as the trainable parameters (<see cref="TrainableParameterCount"/>).</summary>
    public OptimizerState? Optimizer { get; set; }

    /// <summary>Training history as JSON text (stored and returned unchanged), or <see langword="null"/>.</summary>
    public string? HistoryJson { get; set; }

    /// <summary>When the model was saved; defaults to the moment this object was created. Stored with its UTC offset.</summary>
    public DateTimeOffset SavedAt { get; set; } = DateTimeOffset.UtcNow;
}

namespace ModelGen;

/// <summary>Settings of one <see cref="Trainer.Fit"/> call (Keras's <c>fit</c> arguments).</summary>
public sealed class FitOptions
{
    /// <summary>Passes over the training data (default 1).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Samples per gradient step (default 32, as in Keras); the last partial batch is used too.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Data evaluated after every epoch (val_loss, val_accuracy); none when null.</summary>
    public Dataset? Validation { get; init; }

    /// <summary>The optimizer; when null the model's previous optimizer is continued, else a new <see cref="Adam"/>.</summary>
    public Optimizer? Optimizer { get; init; }

    /// <summary>Seed of the per-epoch shuffles; the same seed gives the same batches (and, from the same weights, the same result).</summary>
    public int? Seed { get; init; }

    /// <summary>Progress output; when null, Keras-style lines on the console (a live bar on a terminal).</summary>
    public ProgressReporter? Progress { get; init; }

    /// <summary>
    /// Keras-style callbacks (<see cref="EarlyStopping"/>, <see cref="ModelCheckpoint"/>, <see cref="ReduceLROnPlateau"/>,
    /// <see cref="LearningRateScheduler"/>, <see cref="CsvLogger"/>, or your own <see cref="Callback"/>), called in this order.
    /// </summary>
    public IReadOnlyList<Callback>? Callbacks { get; init; }

    /// <summary>
    /// Random rotation, translation and zoom of the training images (Keras's preprocessing layers), applied to every
    /// training batch as it is gathered; none when null. Needs an image input (height × width × channels).
    /// </summary>
    public ImageAugmentation? Augmentation { get; init; }

    /// <summary>Threads computing each batch, 1 to 256 (default: all cores). The result does not depend on it.</summary>
    public int? Threads { get; init; }

    /// <summary>Stops training between steps.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// Training stopped because the loss stopped being a finite number, or because a step's update would have made a weight
/// or an optimizer value NaN or infinite. Either way that step changed nothing: the weights and the optimizer state are
/// those from before it.
/// </summary>
public sealed class TrainingDivergedException : ModelGenException
{
    private const string Advice = "lower the learning rate, scale the inputs (e.g. x/255) or check the data for extreme values.";

    /// <summary>Creates the exception for a batch loss that is not finite.</summary>
    public TrainingDivergedException(int epoch, int step, double loss)
        : base($"Training diverged at epoch {epoch}, step {step}: the batch loss is {loss}. The weights before this step are kept; " + Advice)
    {
        Epoch = epoch;
        Step = step;
    }

    /// <summary>Creates the exception for an update that was refused before it was applied; <paramref name="reason"/> says why.</summary>
    public TrainingDivergedException(int epoch, int step, string reason)
        : base($"Training diverged at epoch {epoch}, step {step}: {reason}. The update was not applied: the weights and optimizer state before this step are kept; " + Advice)
    {
        Epoch = epoch;
        Step = step;
    }

    /// <summary>Epoch (1-based) in which the loss diverged.</summary>
    public int Epoch { get; }

    /// <summary>Step (1-based) within the epoch.</summary>
    public int Step { get; }
}

namespace ModelGen;

/// <summary>
/// What runs the steps of one <see cref="Trainer.Fit"/>: the CPU engine, or a GPU session's engine. The trainer owns
/// everything else — epochs, shuffles, validation, history, divergence, cancellation, observers — once for both.
/// </summary>
/// <remarks>
/// An engine may run steps asynchronously (a GPU queues them): <see cref="ReadTotals"/> is when its results must be
/// there. After a step fails (a non-finite loss, or an update refused as non-finite), the engine runs no further step of
/// the fit and keeps the weights and optimizer state from before the failed step.
/// </remarks>
internal interface ITrainingEngine : IDisposable
{
    /// <summary>True when <see cref="ReadTotals"/> costs nothing (the CPU); a GPU waits for the device and copies back.</summary>
    bool ReadsBackCheaply { get; }

    /// <summary>
    /// Readies a fit: the engine takes the network's weights and the optimizer's state as they are now. Dropout masks
    /// come from <paramref name="seed"/> (with the epoch and step: CompilerServices.Dropout.PassKey).
    /// </summary>
    void BeginFit(Dataset train, int batchSize, Optimizer optimizer, int seed);

    /// <summary>Starts epoch <paramref name="epoch"/> (1-based over the network's history) whose batches take the samples in <paramref name="order"/>.</summary>
    void BeginEpoch(int[] order, int epoch);

    /// <summary>Runs (or queues) step <paramref name="step"/> (1-based) on samples order[start..start + count).</summary>
    void Step(int step, int start, int count);

    /// <summary>The epoch's results so far, once every step run or queued before has finished.</summary>
    EpochTotals ReadTotals();

    /// <summary>Mean loss and accuracy over <paramref name="data"/> with the current weights (validation during a fit).</summary>
    EvaluationResult Evaluate(Dataset data);

    /// <summary>Ends a fit: the network's parameters and the optimizer hold the state after the last step that was applied.</summary>
    void EndFit();
}

/// <summary>The results of an epoch's steps so far.</summary>
/// <param name="Samples">Samples whose loss and hits are in.</param>
/// <param name="LossSum">Their summed loss.</param>
/// <param name="Correct">How many of them were predicted right.</param>
/// <param name="Failure">The first step that failed, or null.</param>
internal readonly record struct EpochTotals(int Samples, double LossSum, long Correct, StepFailure? Failure);

/// <summary>A step that was not applied: its batch loss was not finite, or its update would have been (<paramref name="Refused"/> says why).</summary>
internal sealed record StepFailure(int Step, double BatchLoss, string? Refused);

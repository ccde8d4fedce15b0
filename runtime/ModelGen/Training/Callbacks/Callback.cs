namespace ModelGen;

/// <summary>
/// Base of Keras-style callbacks (Keras's <c>keras.callbacks.Callback</c>): override the hooks you need and pass the
/// callback to <c>Fit(..., callbacks: [...])</c>. During a fit, <see cref="Run"/> reads and steers it: stop training,
/// change the learning rate, get and set the weights, save a checkpoint, print a message.
/// </summary>
/// <remarks>
/// Epochs are 1-based and counted over all training of the model (a resumed model's first epoch is one more than it
/// had). On the CPU <see cref="OnBatchEnd"/> runs after every batch; on a GPU, where the running loss has to be copied
/// back from the device, only when <see cref="BatchInterval"/> has passed and at the end of the epoch. A callback may be
/// reused for another fit (each fit begins with <see cref="OnTrainBegin"/>), but not by two fits at once.
/// </remarks>
public abstract class Callback : ITrainingObserver
{
    private TrainingRun? _run;

    /// <summary>The fit in progress (Keras's <c>self.model</c> and its <c>stop_training</c>); set from <see cref="OnTrainBegin"/> to <see cref="OnTrainEnd"/>.</summary>
    /// <exception cref="InvalidOperationException">No fit is running this callback.</exception>
    protected TrainingRun Run => _run ?? throw new InvalidOperationException($"{GetType().Name} is not part of a running fit; pass it to Fit(..., callbacks: [...]).");

    /// <summary>How often <see cref="OnBatchEnd"/> is wanted at least on a GPU; by default never (only at the end of each epoch).</summary>
    public virtual TimeSpan BatchInterval => TimeSpan.MaxValue;

    /// <summary>Training begins (Keras <c>on_train_begin</c>); <see cref="Run"/> is set.</summary>
    public virtual void OnTrainBegin()
    {
    }

    /// <summary>Epoch <paramref name="epoch"/> begins (Keras <c>on_epoch_begin</c>, whose epoch is this − 1).</summary>
    public virtual void OnEpochBegin(int epoch)
    {
    }

    /// <summary>Batch <paramref name="step"/> (1-based within the epoch) is about to run (Keras <c>on_train_batch_begin</c>).</summary>
    public virtual void OnBatchBegin(int step)
    {
    }

    /// <summary><paramref name="step"/> batches of the epoch are done; running means of the epoch so far (Keras <c>on_train_batch_end</c>).</summary>
    public virtual void OnBatchEnd(int step, double loss, double accuracy)
    {
    }

    /// <summary>An epoch ended and is in the history (Keras <c>on_epoch_end</c>; its logs are <paramref name="summary"/>).</summary>
    public virtual void OnEpochEnd(EpochSummary summary)
    {
    }

    /// <summary>Training ended, by its last epoch or by a stop; the network holds its final weights (Keras <c>on_train_end</c>).</summary>
    public virtual void OnTrainEnd()
    {
    }

    TimeSpan ITrainingObserver.BatchInterval => BatchInterval;

    void ITrainingObserver.OnTrainBegin(TrainingRun run)
    {
        _run = run;
        OnTrainBegin();
    }

    void ITrainingObserver.OnEpochBegin(int epoch, int epochs, int steps) => OnEpochBegin(epoch);

    void ITrainingObserver.OnBatchBegin(int step) => OnBatchBegin(step);

    void ITrainingObserver.OnBatchEnd(int step, double loss, double accuracy) => OnBatchEnd(step, loss, accuracy);

    void ITrainingObserver.OnEpochEnd(EpochSummary summary) => OnEpochEnd(summary);

    void ITrainingObserver.OnTrainEnd(TrainingRun run)
    {
        try
        {
            OnTrainEnd();
        }
        finally
        {
            _run = null;
        }
    }
}

/// <summary>Whether a monitored value should fall or rise (Keras's <c>mode</c>).</summary>
public enum MonitorMode
{
    /// <summary>From the name: losses should fall, accuracies rise (Keras <c>"auto"</c>).</summary>
    Auto,

    /// <summary>Lower is better (Keras <c>"min"</c>).</summary>
    Min,

    /// <summary>Higher is better (Keras <c>"max"</c>).</summary>
    Max,
}

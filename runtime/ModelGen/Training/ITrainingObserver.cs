namespace ModelGen;

/// <summary>
/// Follows a <see cref="Trainer.Fit"/> as it runs: the seam that progress output (<see cref="ProgressReporter"/>) and
/// Keras-style callbacks plug into. Every member has a default that does nothing, so an observer implements only what
/// it needs.
/// </summary>
public interface ITrainingObserver
{
    /// <summary>
    /// How often <see cref="OnBatchEnd"/> should be called at least: every batch on the CPU, but a GPU has to wait for the
    /// device to report running values, so there it is called only once this much time has passed since the last call
    /// (and at the end of each epoch). The default, <see cref="TimeSpan.MaxValue"/>, asks for no batch updates on a GPU.
    /// </summary>
    TimeSpan BatchInterval => TimeSpan.MaxValue;

    /// <summary>An epoch of <paramref name="steps"/> batches begins (epochs are counted over all training of the model, from 1).</summary>
    void OnEpochBegin(int epoch, int epochs, int steps)
    {
    }

    /// <summary><paramref name="step"/> batches of the epoch are done; the loss and accuracy are the epoch's running means.</summary>
    void OnBatchEnd(int step, double loss, double accuracy)
    {
    }

    /// <summary>An epoch ended: its training means and, when validation data was given, the validation results.</summary>
    void OnEpochEnd(EpochSummary summary)
    {
    }
}

/// <summary>What one epoch of training gave.</summary>
/// <param name="Epoch">1-based, counted over all training of the model.</param>
/// <param name="Elapsed">Training and validation time.</param>
/// <param name="Loss">Mean training loss.</param>
/// <param name="Accuracy">Training accuracy, 0..1.</param>
/// <param name="ValLoss">Validation loss, or null without validation data.</param>
/// <param name="ValAccuracy">Validation accuracy, or null without validation data.</param>
public sealed record EpochSummary(int Epoch, TimeSpan Elapsed, double Loss, double Accuracy, double? ValLoss, double? ValAccuracy);

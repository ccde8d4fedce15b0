using System.Globalization;

namespace ModelGen;

/// <summary>
/// Follows a <see cref="Trainer.Fit"/> as it runs: the seam that progress output (<see cref="ProgressReporter"/>) and
/// Keras-style callbacks (<see cref="Callback"/>) plug into. Every member has a default that does nothing, so an
/// observer implements only what it needs.
/// </summary>
/// <remarks>
/// Order in one fit: <see cref="OnTrainBegin"/>; per epoch <see cref="OnEpochBegin"/>, per batch
/// <see cref="OnBatchBegin"/> and <see cref="OnBatchEnd"/>, then <see cref="OnEpochEnd"/>; <see cref="OnTrainEnd"/> once
/// training has ended normally or was stopped by <see cref="TrainingRun.StopTraining"/> (not after an exception or a
/// cancellation). Callbacks see each begin hook before the progress output and each end hook after it.
/// </remarks>
public interface ITrainingObserver
{
    /// <summary>
    /// How often <see cref="OnBatchEnd"/> should be called at least: every batch on the CPU, but a GPU has to wait for the
    /// device to report running values, so there it is called only once this much time has passed since the last call
    /// (and at the end of each epoch). The default, <see cref="TimeSpan.MaxValue"/>, asks for no batch updates on a GPU.
    /// </summary>
    TimeSpan BatchInterval => TimeSpan.MaxValue;

    /// <summary>
    /// Training begins: <paramref name="run"/> is how an observer reads and steers it (stop, learning rate, weights,
    /// checkpoints) until <see cref="OnTrainEnd"/> returns.
    /// </summary>
    void OnTrainBegin(TrainingRun run)
    {
    }

    /// <summary>An epoch of <paramref name="steps"/> batches begins (epochs are counted over all training of the model, from 1).</summary>
    void OnEpochBegin(int epoch, int epochs, int steps)
    {
    }

    /// <summary>Batch <paramref name="step"/> (1-based within the epoch) is about to run.</summary>
    void OnBatchBegin(int step)
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

    /// <summary>Training ended (all epochs ran, or a stop was requested); the network holds its final weights.</summary>
    void OnTrainEnd(TrainingRun run)
    {
    }

    /// <summary>
    /// A line of text from a callback (<see cref="TrainingRun.Log"/>), e.g. <c>Epoch 7: early stopping</c>; progress
    /// output prints it between its own lines.
    /// </summary>
    void OnMessage(string message)
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
/// <param name="LearningRate">The optimizer's learning rate at the end of the epoch's steps (Keras's <c>learning_rate</c> log).</param>
public sealed record EpochSummary(int Epoch, TimeSpan Elapsed, double Loss, double Accuracy, double? ValLoss, double? ValAccuracy, double LearningRate)
{
    /// <summary>The names <see cref="Metric"/> knows, as Keras's logs and history name them, sorted.</summary>
    public static IReadOnlyList<string> MetricNames { get; } = ["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"];

    /// <summary>
    /// The value Keras's epoch logs hold under <paramref name="name"/> (<c>loss</c>, <c>accuracy</c>, <c>val_loss</c>,
    /// <c>val_accuracy</c>, <c>learning_rate</c>), or null when the epoch has none (validation values without validation data).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of <see cref="MetricNames"/>.</exception>
    public double? Metric(string name) => name switch
    {
        "loss" => Loss,
        "accuracy" => Accuracy,
        "val_loss" => ValLoss,
        "val_accuracy" => ValAccuracy,
        "learning_rate" => LearningRate,
        _ => throw new ArgumentException(UnknownMetric(name), nameof(name)),
    };

    /// <summary>Why <paramref name="name"/> is not a metric, naming those that are.</summary>
    internal static string UnknownMetric(string? name) =>
        string.Create(CultureInfo.InvariantCulture, $"'{name}' is not a metric of Fit; it reports {string.Join(", ", MetricNames)}.");
}

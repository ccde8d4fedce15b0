namespace ModelGen;

/// <summary>
/// One <see cref="Trainer.Fit"/> in progress, as callbacks see it (Keras's <c>self.model</c> inside a callback): what is
/// being trained and how far it is, and the few ways to steer it — stop, change the learning rate, read and restore the
/// weights, save a checkpoint. Handed to <see cref="ITrainingObserver.OnTrainBegin"/>; valid until
/// <see cref="ITrainingObserver.OnTrainEnd"/> returns.
/// </summary>
/// <remarks>
/// Every member is called between two steps (from a hook), on the thread that runs the fit. Weights read or written
/// here are the ones the engine trains, also when it keeps them on a GPU: they are copied back or up as needed.
/// </remarks>
public sealed class TrainingRun
{
    private readonly ITrainingEngine _engine;
    private readonly ITrainingObserver _messages;
    private bool _engineRunning;
    private bool _ended;

    internal TrainingRun(
        INetwork network, ITrainingEngine engine, Optimizer optimizer, TrainingHistory history, ITrainingObserver messages,
        int initialEpoch, int finalEpoch, int stepsPerEpoch, int batchSize, bool hasValidation)
    {
        Network = network;
        _engine = engine;
        Optimizer = optimizer;
        History = history;
        _messages = messages;
        InitialEpoch = initialEpoch;
        FinalEpoch = finalEpoch;
        StepsPerEpoch = stepsPerEpoch;
        BatchSize = batchSize;
        HasValidation = hasValidation;
        _engineRunning = true;
    }

    /// <summary>The network being trained.</summary>
    public INetwork Network { get; }

    /// <summary>The optimizer of this fit.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The network's history; the trainer appends each epoch to it before the callbacks' <c>OnEpochEnd</c>.</summary>
    public TrainingHistory History { get; }

    /// <summary>Epochs the model had been trained before this fit (Keras's <c>initial_epoch</c>); this fit's first epoch is this + 1.</summary>
    public int InitialEpoch { get; }

    /// <summary>The last epoch this fit runs unless it is stopped (1-based, over all training of the model).</summary>
    public int FinalEpoch { get; }

    /// <summary>Batches per epoch.</summary>
    public int StepsPerEpoch { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether validation data was given, so that <c>val_loss</c> and <c>val_accuracy</c> exist.</summary>
    public bool HasValidation { get; }

    /// <summary>Whether a callback asked training to stop (Keras's <c>model.stop_training</c>).</summary>
    public bool StopRequested => StopReason is not null;

    /// <summary>Why training was asked to stop, or null.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The learning rate of <see cref="Optimizer"/>: set it to change it from the next step on.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite as a float.</exception>
    public double LearningRate
    {
        get => Optimizer.LearningRate;
        set
        {
            CheckActive();
            lock (ModelStore.Gate(Network)) Optimizer.LearningRate = value;
        }
    }

    /// <summary>
    /// Asks training to stop: after the current batch when called from <see cref="ITrainingObserver.OnBatchEnd"/> (the
    /// epoch then ends with the batches run so far, is validated and recorded), else after the current epoch. The stop
    /// and <paramref name="reason"/> are recorded in <see cref="TrainingHistory.Stops"/>. The first reason given is kept.
    /// </summary>
    public void StopTraining(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        CheckActive();
        StopReason ??= reason;
    }

    /// <summary>A copy of the weights as they are now (Keras's <c>get_weights</c>), bit for bit.</summary>
    public float[] GetWeights()
    {
        CheckActive();
        lock (ModelStore.Gate(Network))
        {
            if (_engineRunning) _engine.SyncToHost();
            return (float[])Network.Parameters.Clone();
        }
    }

    /// <summary>
    /// Replaces the weights (Keras's <c>set_weights</c>) with <paramref name="weights"/>, bit for bit; the optimizer state
    /// is kept, as in Keras. With <paramref name="fromEpoch"/> the history records that the model now holds the weights of
    /// that epoch's end (<see cref="TrainingHistory.WeightsFromEpoch"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is not as long as the parameters, or holds a value that is not finite.</exception>
    public void SetWeights(ReadOnlySpan<float> weights, int? fromEpoch = null)
    {
        CheckActive();
        var parameters = Network.Parameters;
        if (weights.Length != parameters.Length)
        {
            throw new ArgumentException($"{weights.Length} weights were given but {Network.Description.Name} has {parameters.Length} parameters.", nameof(weights));
        }

        if (Trainer.FirstNonFinite(weights) is var bad and >= 0)
        {
            throw new ArgumentException($"Weight {NetworkDescription.NameOf(Network.Description, bad)} is {weights[bad]}; weights must be finite.", nameof(weights));
        }

        lock (ModelStore.Gate(Network))
        {
            weights.CopyTo(parameters);
            if (_engineRunning) _engine.ReloadParameters();
            if (fromEpoch is { } epoch) History.WeightsFromEpoch = epoch;
        }
    }

    /// <summary>
    /// Saves the model as it is now — weights, optimizer state, history — to <paramref name="path"/>, atomically, as the
    /// model's <c>Save</c> does (a failed save keeps the previous file).
    /// </summary>
    /// <exception cref="ModelFileException">The file cannot be written.</exception>
    public void Save(string path)
    {
        CheckActive();
        if (_engineRunning)
        {
            lock (ModelStore.Gate(Network)) _engine.SyncToHost();
        }

        ModelStore.Save(Network, path);
    }

    /// <summary>Prints <paramref name="message"/> as one line through the progress output (Keras callbacks' verbose messages).</summary>
    public void Log(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _messages.OnMessage(message);
    }

    /// <summary>The engine has ended the fit: the weights are on the host for good.</summary>
    internal void EngineEnded() => _engineRunning = false;

    /// <summary>The fit is over: callbacks can no longer steer it.</summary>
    internal void End() => _ended = true;

    private void CheckActive()
    {
        if (_ended) throw new InvalidOperationException("This training run has ended; a callback can steer a fit only from its hooks, while the fit runs.");
    }
}

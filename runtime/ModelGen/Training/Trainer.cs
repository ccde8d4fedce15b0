using System.Diagnostics;
using System.Numerics;
using ModelGen.CompilerServices;

namespace ModelGen;

/// <summary>
/// The training loop (Keras's <c>fit</c> and <c>evaluate</c>) over any generated network: seeded per-epoch shuffles,
/// steps run by an engine (the CPU's, or a GPU session's), validation, divergence checks, cancellation, observers
/// (progress output) and the history. There is one loop for every device.
/// </summary>
public static class Trainer
{
    /// <summary>The most threads a training or evaluation run takes; more is a mistake, not a speed-up.</summary>
    public const int MaxThreads = Cpu.WorkerPool.MaxWorkers;

    /// <summary>Trains <paramref name="network"/> on <paramref name="train"/> on the CPU; returns the history of all training so far.</summary>
    public static TrainingHistory Fit(INetwork network, Dataset train, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= new FitOptions();
        var threads = ThreadCount(options.Threads, nameof(options));
        CheckFit(network, train, options);
        using var engine = new CpuEngine(network, threads);
        return Run(network, engine, train, options);
    }

    /// <summary>Checks a fit's settings and data before any work, so that errors name what is wrong.</summary>
    internal static void CheckFit(INetwork network, Dataset train, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Epochs is {options.Epochs}; it must be at least 0.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), $"BatchSize is {options.BatchSize}; it must be at least 1.");
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        ValidateParameters(network);
        Validate(network, train, "training data");
        if (options.Validation is { } validation) Validate(network, validation, "validation data");
    }

    /// <summary>
    /// The loop of <see cref="Fit"/> on <paramref name="engine"/>. Save from another thread takes the model's lock, so it
    /// writes the state between two steps; the engine holds the lock while it applies a step.
    /// </summary>
    internal static TrainingHistory Run(INetwork network, ITrainingEngine engine, Dataset train, FitOptions options)
    {
        var optimizer = options.Optimizer ?? network.Optimizer ?? new Adam();
        network.Optimizer = optimizer;
        var history = network.History ??= new TrainingHistory();
        ITrainingObserver progress = options.Progress ?? ProgressReporter.ForConsole();
        var seed = options.Seed ?? SeededRandom.NewSeed();
        var batch = (int)Math.Min(options.BatchSize, train.Count);
        var steps = (int)((train.Count + (long)batch - 1) / batch); // long: a batch size near int.MaxValue would overflow
        var order = new int[train.Count];
        var epochsBefore = history.Epochs;
        var totalEpochs = epochsBefore + options.Epochs;
        var gate = ModelStore.Gate(network);

        engine.BeginFit(train, batch, optimizer, seed);
        try
        {
            for (var e = 0; e < options.Epochs; e++)
            {
                var epoch = epochsBefore + e + 1;
                var clock = Stopwatch.StartNew();
                ShuffledOrder(order, seed, epoch);
                engine.BeginEpoch(order, epoch);
                progress.OnEpochBegin(epoch, totalEpochs, steps);
                var lastReport = TimeSpan.Zero;
                for (var step = 0; step < steps; step++)
                {
                    options.CancellationToken.ThrowIfCancellationRequested();
                    var start = step * batch;
                    lock (gate) engine.Step(step + 1, start, Math.Min(batch, train.Count - start));
                    if (step + 1 < steps && (engine.ReadsBackCheaply || clock.Elapsed - lastReport >= progress.BatchInterval))
                    {
                        var running = Totals(engine, epoch, steps);
                        progress.OnBatchEnd(step + 1, running.LossSum / running.Samples, (double)running.Correct / running.Samples);
                        lastReport = clock.Elapsed;
                    }
                }

                var totals = Totals(engine, epoch, steps);
                progress.OnBatchEnd(steps, totals.LossSum / train.Count, (double)totals.Correct / train.Count);
                var validation = options.Validation is { } data ? engine.Evaluate(data) : null;
                clock.Stop();
                var summary = new EpochSummary(
                    epoch, clock.Elapsed, totals.LossSum / train.Count, (double)totals.Correct / train.Count, validation?.Loss, validation?.Accuracy);
                progress.OnEpochEnd(summary);
                lock (gate) history.AddEpoch(summary.Loss, summary.Accuracy, summary.ValLoss, summary.ValAccuracy, clock.Elapsed.TotalSeconds);
            }
        }
        finally
        {
            lock (gate) engine.EndFit();
        }

        return history;
    }

    /// <summary>The epoch's totals, or the divergence of one of its steps as an exception.</summary>
    private static EpochTotals Totals(ITrainingEngine engine, int epoch, int steps)
    {
        var totals = engine.ReadTotals();
        if (totals.Failure is { } failure)
        {
            throw failure.Refused is { } why
                ? new TrainingDivergedException(epoch, failure.Step, why)
                : new TrainingDivergedException(epoch, failure.Step, failure.BatchLoss);
        }

        return totals;
    }

    /// <summary>Mean loss and accuracy over <paramref name="data"/> (Keras's <c>evaluate</c>).</summary>
    public static EvaluationResult Evaluate(INetwork network, Dataset data, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        var count = ThreadCount(threads, nameof(threads));
        ValidateParameters(network);
        Validate(network, data, "evaluation data");
        if (threads is null)
        {
            using var lease = InferenceEngines.Lease(network);
            return lease.Engine.Evaluate(data);
        }

        using var engine = new CpuEngine(network, count);
        return engine.Evaluate(data);
    }

    /// <summary>
    /// Mean loss over <paramref name="batch"/> and its mean gradient, written to <paramref name="gradient"/> (laid out like
    /// the trainable parameters, the first <see cref="NetworkDescription.TrainableParameterCount"/> of the buffer), without
    /// an optimizer step: for custom training loops. It runs in training mode (BatchNormalization on the batch's
    /// statistics, Dropout with the masks of seed 0, epoch 0, step 0) and changes nothing of the network.
    /// </summary>
    public static float ComputeGradients(INetwork network, Dataset batch, Span<float> gradient, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(batch);
        CheckGradientLength(network.Description, gradient.Length);

        if (batch.Count == 0) throw new ArgumentException("The batch is empty.", nameof(batch));
        var count = ThreadCount(threads, nameof(threads));
        ValidateParameters(network);
        Validate(network, batch, "batch");
        using var engine = new CpuEngine(network, count);
        return engine.Gradient(batch, gradient);
    }

    /// <summary>A gradient must be as long as the trainable parameters; the message says so and names the non-trainable ones.</summary>
    internal static void CheckGradientLength(NetworkDescription description, int length)
    {
        var trainable = description.TrainableParameterCount;
        if (length == trainable) return;
        var others = description.NonTrainableParameterCount > 0
            ? $" ({description.ParameterCount} parameters, of which {description.NonTrainableParameterCount} are not trainable)"
            : string.Empty;
        throw new ArgumentException(
            $"The gradient span holds {length} floats; the network has {trainable} trainable parameters{others}.", "gradient");
    }

    /// <summary>The sample order of one epoch: a permutation fixed by (seed, epoch), so a resumed run sees the same batches.</summary>
    internal static void ShuffledOrder(int[] order, int seed, int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        new SeededRandom(((long)seed << 20) ^ epoch).Shuffle(order);
    }

    /// <summary>
    /// The thread count to run with: <paramref name="threads"/>, or all cores; refused outside 1..<see cref="MaxThreads"/>.
    /// Where threads cannot start (browser WebAssembly) it is one, whatever was asked: the results are the same for any
    /// thread count, so this changes nothing but the speed.
    /// </summary>
    internal static int ThreadCount(int? threads, string parameter) =>
        ThreadCount(threads, parameter, Environment.ProcessorCount, Cpu.WorkerPool.CanStartThreads);

    /// <summary><see cref="ThreadCount(int?, string)"/> on a machine of <paramref name="processorCount"/> cores.</summary>
    internal static int ThreadCount(int? threads, string parameter, int processorCount, bool canStartThreads)
    {
        if (threads is { } n && (n < 1 || n > MaxThreads))
        {
            throw new ArgumentOutOfRangeException(parameter, n, $"Threads is {n}; it must be 1 to {MaxThreads} (this machine has {processorCount} cores).");
        }

        return Cpu.WorkerPool.Usable(Math.Clamp(threads ?? processorCount, 1, MaxThreads), canStartThreads);
    }

    /// <summary>Refuses a network whose weights are not all finite: it would train, evaluate and predict nothing but NaN.</summary>
    internal static void ValidateParameters(INetwork network)
    {
        var bad = FirstNonFinite(network.Parameters);
        if (bad >= 0)
        {
            var d = network.Description;
            throw new ModelInputException(
                $"{d.Name}'s weights are not finite: parameter {NetworkDescription.NameOf(d, bad)} is {network.Parameters[bad]}. " +
                "Load a model file that was saved intact, or create the model afresh and train it.");
        }
    }

    /// <summary>Checks sample length, labels and finiteness once, before any work, so errors name the sample at fault.</summary>
    internal static void Validate(INetwork network, Dataset data, string what)
    {
        var d = network.Description;
        if (data.SampleLength != d.InputLength)
        {
            throw new ModelInputException(
                $"The {what} has {data.SampleLength} values per sample but {d.Name} takes {d.InputLength} ({string.Join("x", d.InputShape)}); " +
                "pass samples of the model's input shape.");
        }

        var labels = data.AllLabels;
        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)d.OutputLength) throw ModelInputException.LabelOutOfRange(labels[i], d.OutputLength, i);
        }

        var features = data.AllFeatures;
        var finite = FirstNonFinite(features);
        if (finite >= 0)
        {
            throw ModelInputException.NotFinite($"The {what}", finite / data.SampleLength, finite % data.SampleLength, features[finite]);
        }
    }

    /// <summary>Index of the first NaN or infinity, or -1.</summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        var i = 0;
        var width = Vector<float>.Count;
        var max = new Vector<float>(float.MaxValue);
        for (; i + width <= values.Length; i += width)
        {
            // |x| <= MaxValue is false for NaN and for infinities.
            if (!Vector.LessThanOrEqualAll(Vector.Abs(new Vector<float>(values.Slice(i, width))), max)) break;
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }

        return -1;
    }
}

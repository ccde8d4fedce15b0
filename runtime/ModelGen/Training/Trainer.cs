using System.Diagnostics;
using System.Numerics;

namespace ModelGen;

/// <summary>
/// The training loop (Keras's <c>fit</c> and <c>evaluate</c>) over any generated network: seeded per-epoch shuffles,
/// batches computed in parallel with a deterministic reduction, Keras-style progress, and a history.
/// </summary>
public static class Trainer
{
    /// <summary>Trains <paramref name="network"/> on <paramref name="train"/>; returns the history of all training so far.</summary>
    public static TrainingHistory Fit(INetwork network, Dataset train, FitOptions? options = null)
    {
        options ??= new FitOptions();
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Epochs is {options.Epochs}; it must be at least 0.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), $"BatchSize is {options.BatchSize}; it must be at least 1.");
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        var threads = ThreadCount(options.Threads, nameof(options));
        ValidateParameters(network);
        Validate(network, train, "training data");
        if (options.Validation is { } validation) Validate(network, validation, "validation data");

        var optimizer = options.Optimizer ?? network.Optimizer ?? new Adam();
        network.Optimizer = optimizer;
        var history = network.History ??= new TrainingHistory();
        var progress = options.Progress ?? ProgressReporter.ForConsole();
        var seed = options.Seed ?? SeededRandom.NewSeed();
        var batch = options.BatchSize;
        var steps = (int)((train.Count + (long)batch - 1) / batch); // long: a batch size near int.MaxValue would overflow
        var gradient = new float[network.Description.ParameterCount];
        var order = new int[train.Count];
        var epochsBefore = history.Epochs;
        var totalEpochs = epochsBefore + options.Epochs;

        using var engine = new BatchEngine(network, threads);
        var gate = ModelStore.Gate(network); // Save from another thread copies the model between two steps
        for (var e = 0; e < options.Epochs; e++)
        {
            var epoch = epochsBefore + e + 1;
            var clock = Stopwatch.StartNew();
            ShuffledOrder(order, seed, epoch);
            progress.BeginEpoch(epoch, totalEpochs, steps);
            double lossSum = 0;
            long correct = 0;
            for (var step = 0; step < steps; step++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                var start = step * batch;
                var count = Math.Min(batch, train.Count - start);
                (double LossSum, int Correct, string? Refused) result;
                lock (gate) result = engine.Step(train, order, start, count, gradient, optimizer, network.Parameters);
                var (batchLoss, batchCorrect, refused) = result;
                if (!double.IsFinite(batchLoss)) throw new TrainingDivergedException(epoch, step + 1, batchLoss / count);
                if (refused is not null) throw new TrainingDivergedException(epoch, step + 1, refused);
                lossSum += batchLoss;
                correct += batchCorrect;
                var seen = start + count;
                progress.Report(step + 1, lossSum / seen, (double)correct / seen);
            }

            double? valLoss = null, valAccuracy = null;
            if (options.Validation is { } data)
            {
                var result = engine.Evaluate(data);
                valLoss = result.Loss;
                valAccuracy = result.Accuracy;
            }

            clock.Stop();
            var trainLoss = lossSum / train.Count;
            var trainAccuracy = (double)correct / train.Count;
            progress.EndEpoch(clock.Elapsed, trainLoss, trainAccuracy, valLoss, valAccuracy);
            lock (gate) history.AddEpoch(trainLoss, trainAccuracy, valLoss, valAccuracy, clock.Elapsed.TotalSeconds);
        }

        return history;
    }

    /// <summary>Mean loss and accuracy over <paramref name="data"/> (Keras's <c>evaluate</c>).</summary>
    public static EvaluationResult Evaluate(INetwork network, Dataset data, int? threads = null)
    {
        var count = ThreadCount(threads, nameof(threads));
        ValidateParameters(network);
        Validate(network, data, "evaluation data");
        using var engine = new BatchEngine(network, count);
        return engine.Evaluate(data);
    }

    /// <summary>
    /// Mean loss over <paramref name="batch"/> and its mean gradient, written to <paramref name="gradient"/> (laid out like
    /// the parameters), without an optimizer step: for custom training loops.
    /// </summary>
    public static float ComputeGradients(INetwork network, Dataset batch, Span<float> gradient, int? threads = null)
    {
        var parameterCount = network.Description.ParameterCount;
        if (gradient.Length != parameterCount)
        {
            throw new ArgumentException($"The gradient span holds {gradient.Length} floats; the network has {parameterCount} parameters.", nameof(gradient));
        }

        if (batch.Count == 0) throw new ArgumentException("The batch is empty.", nameof(batch));
        var count = ThreadCount(threads, nameof(threads));
        ValidateParameters(network);
        Validate(network, batch, "batch");
        var order = new int[batch.Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var mean = new float[parameterCount];
        using var engine = new BatchEngine(network, count);
        var (loss, _) = engine.Gradient(batch, order, 0, batch.Count, mean);
        mean.CopyTo(gradient);
        return (float)(loss / batch.Count);
    }

    /// <summary>The sample order of one epoch: a permutation fixed by (seed, epoch), so a resumed run sees the same batches.</summary>
    internal static void ShuffledOrder(int[] order, int seed, int epoch)
    {
        for (var i = 0; i < order.Length; i++) order[i] = i;
        new SeededRandom(((long)seed << 20) ^ epoch).Shuffle(order);
    }

    /// <summary>The most threads a training or evaluation run takes: each has its own workspace, and more never helps.</summary>
    public const int MaxThreads = 256;

    /// <summary>The thread count to run with: <paramref name="threads"/>, or all cores; refused outside 1..<see cref="MaxThreads"/>.</summary>
    internal static int ThreadCount(int? threads, string parameter)
    {
        if (threads is { } n && (n < 1 || n > MaxThreads))
        {
            throw new ArgumentOutOfRangeException(parameter, n, $"Threads is {n}; it must be 1 to {MaxThreads} (this machine has {Environment.ProcessorCount} cores).");
        }

        return Math.Min(threads ?? Environment.ProcessorCount, MaxThreads);
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

using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ModelGen.Gpu;

/// <summary>
/// One network on one ILGPU accelerator: the compiled kernels and the device buffers that outlive a call (parameters,
/// gradients, Adam moments, batch buffers). Reuse a session to avoid compiling the kernels again.
/// </summary>
/// <remarks>
/// <see cref="INetwork.Parameters"/> on the host stays the source of truth between calls: every call uploads the
/// parameters (and, for <see cref="Fit"/>, the Adam moments) first, and <see cref="Fit"/> copies both back at the end,
/// so <c>Save</c>, <c>Load</c> and resuming on the CPU behave as after <see cref="Trainer.Fit"/>.
/// Within a call everything stays on the device: the data set is uploaded once, batches are gathered on the device
/// from a per-epoch permutation, and losses and hits are read back once per epoch (or a few times a second for a live
/// progress line). A session is not thread-safe.
/// </remarks>
public sealed class GpuSession : IDisposable
{
    /// <summary>Threads per launch on ILGPU's CPU accelerator: it simulates every thread (~1.4 µs each), so few threads loop over many elements.</summary>
    private const int CpuAcceleratorThreads = 256;

    /// <summary>Batch size of evaluation and prediction when no training batch size is known.</summary>
    private const int DefaultInferenceCapacity = 1024;

    private readonly IGpuNetwork _network;
    private readonly NetworkDescription _description;
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly GpuKernelSet _kernels;
    private readonly int _maxThreads;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _parameters;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _gradients;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _moment1;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _moment2;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _scratch;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _status;
    private BatchBuffers? _batch;
    private bool _disposed;

    /// <summary>Opens <paramref name="device"/> and compiles the kernels of <paramref name="network"/> for it.</summary>
    /// <param name="network">A generated network.</param>
    /// <param name="device"><see cref="DeviceKind.Gpu"/> (the first CUDA device) or <see cref="DeviceKind.CpuAccelerator"/>.</param>
    /// <exception cref="GpuNotFoundException"><see cref="DeviceKind.Gpu"/> and ILGPU finds no CUDA device.</exception>
    /// <exception cref="GpuExecutionException">The device could not be opened or the kernels not compiled for it.</exception>
    public GpuSession(IGpuNetwork network, DeviceKind device = DeviceKind.Gpu)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (device is not (DeviceKind.Gpu or DeviceKind.CpuAccelerator))
        {
            throw new ArgumentException(
                $"A GpuSession runs on an ILGPU accelerator, not on {device}; pass DeviceKind.Gpu or DeviceKind.CpuAccelerator, or use GpuTrainer, which also takes Auto and Cpu.",
                nameof(device));
        }

        _network = network;
        _description = network.Description;
        Device = device;
        (_context, _accelerator) = Open(device);
        try
        {
            DeviceName = _accelerator.Name;
            _maxThreads = device == DeviceKind.Gpu
                ? Math.Max(1, _accelerator.NumMultiprocessors * _accelerator.MaxNumThreadsPerMultiprocessor)
                : CpuAcceleratorThreads;
            try
            {
                _kernels = network.CreateGpuKernels(_accelerator);
            }
            catch (Exception e) when (e is not ModelGenException)
            {
                throw new GpuExecutionException(
                    $"Compiling the GPU kernels of {_description.Name} for {DeviceName} failed: {e.Message} Train on the CPU (DeviceKind.Cpu) and report this.", e);
            }

            var length = Math.Max(1, _description.ParameterCount);
            _parameters = Allocate<float>(length, "parameters");
            _gradients = Allocate<float>(length, "gradients");
            _moment1 = Allocate<float>(length, "Adam's first moments");
            _moment2 = Allocate<float>(length, "Adam's second moments");
            _scratch = Allocate<float>(Math.Max(1, _kernels.ScratchLength), "gradient partial sums");
            _status = Allocate<int>(1, "status");
        }
        catch
        {
            DisposeBuffers();
            _accelerator.Dispose();
            _context.Dispose();
            throw;
        }
    }

    /// <summary>The kind of accelerator this session runs on (<see cref="DeviceKind.Gpu"/> or <see cref="DeviceKind.CpuAccelerator"/>).</summary>
    public DeviceKind Device { get; }

    /// <summary>The accelerator's name as ILGPU reports it, e.g. <c>NVIDIA H100 80GB HBM3</c>.</summary>
    public string DeviceName { get; }

    /// <summary>The network this session runs.</summary>
    public IGpuNetwork Network => _network;

    /// <summary>
    /// Trains as <see cref="Trainer.Fit"/> does (same shuffles for the same seed, Adam, progress lines and history), with
    /// every step on the device. Only Adam is supported. <see cref="FitOptions.Threads"/> is ignored.
    /// </summary>
    /// <exception cref="GpuExecutionException">The optimizer is not Adam, or the batch does not fit the device.</exception>
    /// <exception cref="TrainingDivergedException">A loss stopped being finite; the parameters before that step are kept.</exception>
    public TrainingHistory Fit(Dataset train, FitOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new FitOptions();
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), $"Epochs is {options.Epochs}; it must be at least 0.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), $"BatchSize is {options.BatchSize}; it must be at least 1.");
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));
        Trainer.ValidateParameters(_network);
        Trainer.Validate(_network, train, "training data");
        if (options.Validation is { } checkedValidation) Trainer.Validate(_network, checkedValidation, "validation data");

        var optimizer = options.Optimizer ?? _network.Optimizer ?? new Adam();
        if (optimizer is not Adam adam)
        {
            throw new GpuExecutionException(
                $"The GPU path trains with Adam only, but the optimizer is {optimizer.GetType().Name}; pass an Adam optimizer (or none), or train on the CPU with DeviceKind.Cpu.");
        }

        _network.Optimizer = adam;
        var history = _network.History ??= new TrainingHistory();
        var progress = options.Progress ?? ProgressReporter.ForConsole();
        var seed = options.Seed ?? SeededRandom.NewSeed();
        var batchSize = Math.Min(options.BatchSize, train.Count);
        var steps = (train.Count + batchSize - 1) / batchSize;
        var epochsBefore = history.Epochs;
        var totalEpochs = epochsBefore + options.Epochs;
        EnsureCapacity(batchSize);

        UploadParameters();
        var iterations = UploadAdamState(adam);
        var oneMinusBeta1 = (float)(1.0 - adam.Beta1);
        var oneMinusBeta2 = (float)(1.0 - adam.Beta2);
        var epsilon = (float)adam.Epsilon;

        using var data = new DeviceData(this, train);
        using var validation = options.Validation is { } v ? new DeviceData(this, v) : null;
        var order = new int[train.Count];
        var losses = new float[train.Count];
        var hits = new int[train.Count];

        for (var e = 0; e < options.Epochs; e++)
        {
            var epoch = epochsBefore + e + 1;
            var clock = Stopwatch.StartNew();
            Trainer.ShuffledOrder(order, seed, epoch);
            data.Order.AsFlat().CopyFromCPU(new ReadOnlySpan<int>(order));
            _status.MemSetToZero();
            Synchronize(); // uploads complete before the epoch's kernels, whatever stream ILGPU copied on
            progress.BeginEpoch(epoch, totalEpochs, steps);

            var read = 0;           // samples whose loss and hit were read back
            double lossSum = 0;
            long correct = 0;
            var lastReport = clock.Elapsed;
            for (var step = 0; step < steps; step++)
            {
                if (options.CancellationToken.IsCancellationRequested)
                {
                    var done = FinishEarly(epoch, adam, iterations, step, data, losses, batchSize);
                    DownloadState(adam, iterations + done);
                    options.CancellationToken.ThrowIfCancellationRequested();
                }

                var start = step * batchSize;
                var count = Math.Min(batchSize, train.Count - start);
                var batch = Batch(count, data) with { Start = start, Step = step + 1, Losses = data.Losses.AsFlat().SubView(start, count), Correct = data.Correct.AsFlat().SubView(start, count) };
                _kernels.Gather(batch);
                _kernels.Forward(batch);
                _kernels.Loss(batch);
                _kernels.Backward(batch);
                var t = iterations + step + 1;
                var alpha = (float)(adam.LearningRate * Math.Sqrt(1.0 - Math.Pow(adam.Beta2, t)) / (1.0 - Math.Pow(adam.Beta1, t)));
                _kernels.AdamStep(batch, alpha, oneMinusBeta1, oneMinusBeta2, epsilon);

                // A live progress line needs running values: read them back a few times a second, not every step.
                if (progress.Live && step + 1 < steps && clock.Elapsed - lastReport >= ProgressReporter.RedrawInterval * 2)
                {
                    var seen = start + count;
                    Synchronize();
                    ThrowIfDiverged(epoch, adam, iterations, data, losses, batchSize);
                    (lossSum, correct) = Accumulate(data, losses, hits, read, seen, lossSum, correct);
                    read = seen;
                    progress.Report(step + 1, lossSum / seen, (double)correct / seen);
                    lastReport = clock.Elapsed;
                }
            }

            Synchronize();
            ThrowIfDiverged(epoch, adam, iterations, data, losses, batchSize);
            (lossSum, correct) = Accumulate(data, losses, hits, read, train.Count, lossSum, correct);
            progress.Report(steps, lossSum / train.Count, (double)correct / train.Count);
            iterations += steps;

            double? valLoss = null, valAccuracy = null;
            if (validation is not null)
            {
                var result = EvaluateUploaded(validation, batchSize);
                valLoss = result.Loss;
                valAccuracy = result.Accuracy;
            }

            clock.Stop();
            var trainLoss = lossSum / train.Count;
            var trainAccuracy = (double)correct / train.Count;
            progress.EndEpoch(clock.Elapsed, trainLoss, trainAccuracy, valLoss, valAccuracy);
            lock (ModelStore.Gate(_network)) history.AddEpoch(trainLoss, trainAccuracy, valLoss, valAccuracy, clock.Elapsed.TotalSeconds);
        }

        DownloadState(adam, iterations);
        return history;
    }

    /// <summary>Mean loss and accuracy over <paramref name="data"/> (Keras's <c>evaluate</c>), computed on the device.</summary>
    public EvaluationResult Evaluate(Dataset data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("Cannot evaluate an empty dataset.", nameof(data));
        Trainer.ValidateParameters(_network);
        Trainer.Validate(_network, data, "evaluation data");
        var capacity = Math.Max(_batch?.Capacity ?? 0, Math.Min(data.Count, DefaultInferenceCapacity));
        EnsureCapacity(capacity);
        UploadParameters();
        using var uploaded = new DeviceData(this, data);
        return EvaluateUploaded(uploaded, capacity);
    }

    /// <summary>
    /// Mean loss over <paramref name="batch"/> and its mean gradient (written to <paramref name="gradient"/>, laid out like
    /// the parameters), computed on the device without an optimizer step: the GPU twin of <see cref="Trainer.ComputeGradients"/>.
    /// </summary>
    public float ComputeGradients(Dataset batch, Span<float> gradient)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (gradient.Length != _description.ParameterCount)
        {
            throw new ArgumentException($"The gradient span holds {gradient.Length} floats; the network has {_description.ParameterCount} parameters.", nameof(gradient));
        }

        if (batch.Count == 0) throw new ArgumentException("The batch is empty.", nameof(batch));
        Trainer.Validate(_network, batch, "batch");
        EnsureCapacity(batch.Count);
        UploadParameters();
        using var data = new DeviceData(this, batch);
        var pass = Batch(batch.Count, data) with { Losses = data.Losses.View, Correct = data.Correct.View };
        _kernels.Gather(pass);
        _kernels.Forward(pass);
        _kernels.Loss(pass);
        _kernels.Backward(pass);
        Synchronize();
        if (gradient.Length > 0) _gradients.AsFlat().SubView(0, gradient.Length).CopyToCPU(gradient);
        var losses = new float[batch.Count];
        data.Losses.AsFlat().SubView(0, batch.Count).CopyToCPU(losses.AsSpan());
        double sum = 0;
        foreach (var loss in losses) sum += loss;
        return (float)(sum / batch.Count);
    }

    /// <summary>Runs samples laid one after the other in <paramref name="inputs"/> on the device; returns count × OutputLength outputs.</summary>
    public float[] PredictBatch(ReadOnlySpan<float> inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var d = _description;
        if (inputs.Length % d.InputLength != 0)
        {
            throw new ModelInputException($"The batch has {inputs.Length} values, not a whole number of samples of {d.InputLength}; pass count x {d.InputLength} values.");
        }

        var bad = Trainer.FirstNonFinite(inputs);
        if (bad >= 0) throw ModelInputException.NotFinite("The batch", bad / d.InputLength, bad % d.InputLength, inputs[bad]);
        var total = inputs.Length / d.InputLength;
        var outputs = new float[total * d.OutputLength];
        if (total == 0) return outputs;
        EnsureCapacity(Math.Max(_batch?.Capacity ?? 0, Math.Min(total, DefaultInferenceCapacity)));
        UploadParameters();
        var buffers = _batch!;
        for (var first = 0; first < total; first += buffers.Capacity)
        {
            var count = Math.Min(buffers.Capacity, total - first);
            buffers.Input.AsFlat().SubView(0, (long)count * d.InputLength).CopyFromCPU(inputs.Slice(first * d.InputLength, count * d.InputLength));
            Synchronize();
            var pass = Batch(count, data: null);
            _kernels.Forward(pass);
            _kernels.Output(pass);
            Synchronize();
            buffers.Output.AsFlat().SubView(0, (long)count * d.OutputLength).CopyToCPU(outputs.AsSpan(first * d.OutputLength, count * d.OutputLength));
        }

        return outputs;
    }

    /// <summary>Frees the device buffers, the accelerator and the ILGPU context.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeBuffers();
        _accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>Opens the accelerator of <paramref name="device"/> (Gpu or CpuAccelerator) in a context with ILGPU.Algorithms enabled (XMath).</summary>
    internal static (Context Context, Accelerator Accelerator) Open(DeviceKind device)
    {
        Context? context = null;
        try
        {
            if (device == DeviceKind.Gpu)
            {
                context = Context.Create(b => b.Cuda().EnableAlgorithms());
                var devices = context.GetCudaDevices();
                if (devices.Count == 0)
                {
                    throw new GpuNotFoundException(
                        "No CUDA GPU found: ILGPU's CUDA backend sees no device (this needs an NVIDIA GPU and its driver's libcuda); " +
                        "use DeviceKind.Auto to fall back to the CPU, or DeviceKind.Cpu.");
                }

                return (context, devices[0].CreateAccelerator(context));
            }

            context = Context.Create(b => b.DefaultCPU().EnableAlgorithms());
            // Parallel, never Sequential: ILGPU's Auto mode turns Sequential under a debugger, which is ~30x slower.
            return (context, context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel));
        }
        catch (Exception e) when (e is not ModelGenException)
        {
            context?.Dispose();
            throw device == DeviceKind.Gpu
                ? new GpuNotFoundException($"No CUDA GPU found: opening the CUDA device failed ({OneLine(e.Message)}); check the NVIDIA driver, or use DeviceKind.Auto to fall back to the CPU.")
                : new GpuExecutionException($"ILGPU's CPU accelerator could not be opened: {OneLine(e.Message)}", e);
        }
        catch
        {
            context?.Dispose();
            throw;
        }
    }

    /// <summary>The name of the first CUDA device ILGPU finds, or null with the reason in <paramref name="reason"/>.</summary>
    internal static string? FindCudaDevice(out string reason)
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            var devices = context.GetCudaDevices();
            if (devices.Count > 0)
            {
                reason = string.Empty;
                return devices[0].Name;
            }

            reason = "ILGPU's CUDA backend sees no device";
            return null;
        }
        catch (Exception e)
        {
            reason = "probing CUDA failed: " + OneLine(e.Message);
            return null;
        }
    }

    internal static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private GpuBatch Batch(int count, DeviceData? data)
    {
        var b = _batch!;
        return new GpuBatch
        {
            Count = count,
            Capacity = b.Capacity,
            MaxThreads = _maxThreads,
            Features = data?.Features.View ?? default,
            Labels = data?.Labels.View ?? default,
            Order = data?.Order.View ?? default,
            Input = b.Input.View,
            BatchLabels = b.BatchLabels.View,
            Parameters = _parameters.View,
            Gradients = _gradients.View,
            Moment1 = _moment1.View,
            Moment2 = _moment2.View,
            Workspace = b.Workspace.View,
            Scratch = _scratch.View,
            Output = b.Output.View,
            Losses = data?.Losses.View ?? default,
            Correct = data?.Correct.View ?? default,
            Status = _status.View,
        };
    }

    private EvaluationResult EvaluateUploaded(DeviceData data, int capacity)
    {
        var count = data.Count;
        for (var start = 0; start < count; start += capacity)
        {
            var n = Math.Min(capacity, count - start);
            var pass = Batch(n, data) with
            {
                Start = start,
                Losses = data.Losses.AsFlat().SubView(start, n),
                Correct = data.Correct.AsFlat().SubView(start, n),
                Status = data.Status.View,
            };
            _kernels.Gather(pass);
            _kernels.Forward(pass);
            _kernels.Loss(pass);
        }

        Synchronize();
        var losses = new float[count];
        var hits = new int[count];
        var (loss, correct) = Accumulate(data, losses, hits, 0, count, 0, 0);
        return new EvaluationResult(loss / count, (double)correct / count);
    }

    /// <summary>Adds the losses and hits of samples [from, to) of the epoch, read back from the device.</summary>
    private static (double LossSum, long Correct) Accumulate(DeviceData data, float[] losses, int[] hits, int from, int to, double lossSum, long correct)
    {
        if (to <= from) return (lossSum, correct);
        data.Losses.AsFlat().SubView(from, to - from).CopyToCPU(losses.AsSpan(from, to - from));
        data.Correct.AsFlat().SubView(from, to - from).CopyToCPU(hits.AsSpan(from, to - from));
        for (var i = from; i < to; i++)
        {
            lossSum += losses[i];
            correct += hits[i];
        }

        return (lossSum, correct);
    }

    /// <summary>Reads the status word; when a step produced a non-finite loss, copies the state before that step back and throws.</summary>
    private void ThrowIfDiverged(int epoch, Adam adam, long iterations, DeviceData data, float[] losses, int batchSize)
    {
        var status = new int[1];
        _status.AsFlat().CopyToCPU(status.AsSpan());
        var step = status[0];
        if (step == 0) return;

        // Adam skipped this step and every later one, so the device holds the parameters from before it.
        var start = (step - 1) * batchSize;
        var count = Math.Min(batchSize, data.Count - start);
        data.Losses.AsFlat().SubView(start, count).CopyToCPU(losses.AsSpan(start, count));
        double sum = 0;
        for (var i = start; i < start + count; i++) sum += losses[i];
        DownloadState(adam, iterations + step - 1);
        throw new TrainingDivergedException(epoch, step, sum / count);
    }

    /// <summary>Waits for the queued steps after a cancellation; returns how many of them updated the parameters.</summary>
    private int FinishEarly(int epoch, Adam adam, long iterations, int stepsQueued, DeviceData data, float[] losses, int batchSize)
    {
        Synchronize();
        ThrowIfDiverged(epoch, adam, iterations, data, losses, batchSize);
        return stepsQueued;
    }

    private void UploadParameters()
    {
        if (_description.ParameterCount > 0) _parameters.AsFlat().SubView(0, _description.ParameterCount).CopyFromCPU(_network.Parameters.AsSpan(0, _description.ParameterCount));
        Synchronize();
    }

    /// <summary>Uploads Adam's moments (zeros before its first step); returns its iteration count.</summary>
    private long UploadAdamState(Adam adam)
    {
        var state = adam.GetState();
        var p = _description.ParameterCount;
        if (state.Slots.Length == 2)
        {
            if (state.Slots[0].Length != p)
            {
                throw new GpuExecutionException(
                    $"The Adam optimizer holds moments for {state.Slots[0].Length} parameters but {_description.Name} has {p}; use one optimizer per network, or a fresh Adam.");
            }

            if (p > 0)
            {
                _moment1.AsFlat().SubView(0, p).CopyFromCPU(state.Slots[0].AsSpan());
                _moment2.AsFlat().SubView(0, p).CopyFromCPU(state.Slots[1].AsSpan());
            }
        }
        else
        {
            _moment1.MemSetToZero();
            _moment2.MemSetToZero();
        }

        Synchronize();
        return state.Iterations;
    }

    /// <summary>Copies parameters and Adam's moments back to the host (network.Parameters and the optimizer).</summary>
    private void DownloadState(Adam adam, long iterations)
    {
        Synchronize();
        var p = _description.ParameterCount;
        var m = new float[p];
        var v = new float[p];
        // Under the lock that ModelStore.Save takes: a save from another thread sees the host state before or after this.
        lock (ModelStore.Gate(_network))
        {
            if (p > 0)
            {
                _parameters.AsFlat().SubView(0, p).CopyToCPU(_network.Parameters.AsSpan(0, p));
                _moment1.AsFlat().SubView(0, p).CopyToCPU(m.AsSpan());
                _moment2.AsFlat().SubView(0, p).CopyToCPU(v.AsSpan());
            }

            adam.SetState(new OptimizerState(
                Adam.KindName,
                iterations,
                [("learning_rate", adam.LearningRate), ("beta_1", adam.Beta1), ("beta_2", adam.Beta2), ("epsilon", adam.Epsilon)],
                [m, v]));
        }
    }

    private void EnsureCapacity(int capacity)
    {
        if (_batch is { } current && current.Capacity >= capacity) return;
        var d = _description;
        var widest = Math.Max(Math.Max(d.WorkspaceLength, d.InputLength), d.OutputLength);
        if ((long)capacity * widest > int.MaxValue)
        {
            throw new GpuExecutionException(
                $"A batch of {capacity} samples needs {(long)capacity * widest:N0} floats per buffer, more than the kernels index (2^31); use a batch size of at most {int.MaxValue / widest}.");
        }

        _batch?.Dispose();
        _batch = null;
        _batch = new BatchBuffers(this, capacity);
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, string what)
        where T : unmanaged
    {
        try
        {
            return _accelerator.Allocate1D<T>(Math.Max(1, length));
        }
        catch (Exception e) when (e is not ModelGenException)
        {
            throw new GpuExecutionException(
                $"Could not allocate {length:N0} values for the {what} on {_accelerator.Name}: {OneLine(e.Message)} Use a smaller batch size or data set.", e);
        }
    }

    private void Synchronize()
    {
        try
        {
            _accelerator.Synchronize();
        }
        catch (Exception e) when (e is not ModelGenException)
        {
            throw new GpuExecutionException($"The device {DeviceName} reported an error while running {_description.Name}: {OneLine(e.Message)}", e);
        }
    }

    private void DisposeBuffers()
    {
        _batch?.Dispose();
        _batch = null;
        _parameters?.Dispose();
        _gradients?.Dispose();
        _moment1?.Dispose();
        _moment2?.Dispose();
        _scratch?.Dispose();
        _status?.Dispose();
    }

    /// <summary>The buffers whose size depends on the batch capacity.</summary>
    private sealed class BatchBuffers : IDisposable
    {
        public BatchBuffers(GpuSession session, int capacity)
        {
            var d = session._description;
            Capacity = capacity;
            try
            {
                Input = session.Allocate<float>((long)capacity * d.InputLength, "batch inputs");
                BatchLabels = session.Allocate<int>(capacity, "batch labels");
                Workspace = session.Allocate<float>((long)capacity * d.WorkspaceLength, "workspace");
                Output = session.Allocate<float>((long)capacity * d.OutputLength, "outputs");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int Capacity { get; }

        public MemoryBuffer1D<float, Stride1D.Dense> Input { get; } = null!;

        public MemoryBuffer1D<int, Stride1D.Dense> BatchLabels { get; } = null!;

        public MemoryBuffer1D<float, Stride1D.Dense> Workspace { get; } = null!;

        public MemoryBuffer1D<float, Stride1D.Dense> Output { get; } = null!;

        public void Dispose()
        {
            Input?.Dispose();
            BatchLabels?.Dispose();
            Workspace?.Dispose();
            Output?.Dispose();
        }
    }

    /// <summary>A data set on the device for one call: features and labels (uploaded once), the sample order, per-sample results.</summary>
    private sealed class DeviceData : IDisposable
    {
        public DeviceData(GpuSession session, Dataset data)
        {
            Count = data.Count;
            try
            {
                Features = session.Allocate<float>((long)data.Count * data.SampleLength, "data set");
                Features.AsFlat().SubView(0, (long)data.Count * data.SampleLength).CopyFromCPU(data.AllFeatures);
                Labels = session.Allocate<int>(data.Count, "labels");
                Labels.AsFlat().SubView(0, data.Count).CopyFromCPU(data.AllLabels);
                Order = session.Allocate<int>(data.Count, "sample order");
                var identity = new int[data.Count];
                for (var i = 0; i < identity.Length; i++) identity[i] = i;
                Order.AsFlat().SubView(0, data.Count).CopyFromCPU(identity.AsSpan());
                Losses = session.Allocate<float>(data.Count, "per-sample losses");
                Correct = session.Allocate<int>(data.Count, "per-sample hits");
                Status = session.Allocate<int>(1, "status");
                Status.MemSetToZero();
                session.Synchronize();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int Count { get; }

        public MemoryBuffer1D<float, Stride1D.Dense> Features { get; } = null!;

        public MemoryBuffer1D<int, Stride1D.Dense> Labels { get; } = null!;

        public MemoryBuffer1D<int, Stride1D.Dense> Order { get; } = null!;

        public MemoryBuffer1D<float, Stride1D.Dense> Losses { get; } = null!;

        public MemoryBuffer1D<int, Stride1D.Dense> Correct { get; } = null!;

        /// <summary>Status word of evaluation passes, apart from the training one.</summary>
        public MemoryBuffer1D<int, Stride1D.Dense> Status { get; } = null!;

        public void Dispose()
        {
            Features?.Dispose();
            Labels?.Dispose();
            Order?.Dispose();
            Losses?.Dispose();
            Correct?.Dispose();
            Status?.Dispose();
        }
    }
}

/// <summary>ILGPU view helpers.</summary>
internal static class GpuViews
{
    /// <summary>The buffer as a contiguous view (the type ILGPU's span copies take).</summary>
    public static ArrayView<T> AsFlat<T>(this MemoryBuffer1D<T, Stride1D.Dense> buffer)
        where T : unmanaged => buffer.View;
}

namespace ModelGen.Gpu;

/// <summary>
/// <see cref="Trainer"/>'s API with a device choice: trains, evaluates and predicts on an NVIDIA GPU through ILGPU's CUDA
/// backend, on the CPU path, or on ILGPU's CPU accelerator (for tests). Each call opens the device and compiles the
/// kernels; keep a <see cref="GpuSession"/> to run several calls on one device.
/// </summary>
public static class GpuTrainer
{
    /// <summary>
    /// Trains <paramref name="network"/> on <paramref name="train"/> as <see cref="Trainer.Fit"/> does (same shuffles for the
    /// same seed, progress lines and history) on <paramref name="device"/>; returns the history of all training so far.
    /// </summary>
    /// <param name="network">A generated network.</param>
    /// <param name="train">The training data.</param>
    /// <param name="options">Epochs, batch size, validation data, seed, progress; as for <see cref="Trainer.Fit"/>. The GPU path needs Adam.</param>
    /// <param name="device">Where to train. <see cref="DeviceKind.Auto"/>: the GPU when there is one, else the CPU path.</param>
    /// <param name="log">Where the one line saying which device runs goes; the console when null (pass <see cref="TextWriter.Null"/> to silence it).</param>
    /// <exception cref="GpuNotFoundException"><see cref="DeviceKind.Gpu"/> and no CUDA device is found.</exception>
    public static TrainingHistory Fit(IGpuNetwork network, Dataset train, FitOptions? options = null, DeviceKind device = DeviceKind.Auto, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var kind = Resolve(device, log, "Training");
        if (kind == DeviceKind.Cpu) return Trainer.Fit(network, train, options);
        using var session = new GpuSession(network, kind);
        return session.Fit(train, options);
    }

    /// <summary>Mean loss and accuracy over <paramref name="data"/> (Keras's <c>evaluate</c>) on <paramref name="device"/>.</summary>
    /// <param name="network">A generated network.</param>
    /// <param name="data">The samples to evaluate.</param>
    /// <param name="device">Where to run. <see cref="DeviceKind.Auto"/>: the GPU when there is one, else the CPU path.</param>
    /// <param name="log">Where the one line saying which device runs goes; the console when null.</param>
    public static EvaluationResult Evaluate(IGpuNetwork network, Dataset data, DeviceKind device = DeviceKind.Auto, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var kind = Resolve(device, log, "Evaluating");
        if (kind == DeviceKind.Cpu) return Trainer.Evaluate(network, data);
        using var session = new GpuSession(network, kind);
        return session.Evaluate(data);
    }

    /// <summary>Runs samples laid one after the other in <paramref name="inputs"/>; returns count × OutputLength outputs.</summary>
    /// <param name="network">A generated network.</param>
    /// <param name="inputs">count × InputLength values.</param>
    /// <param name="device">Where to run. <see cref="DeviceKind.Auto"/>: the GPU when there is one, else the CPU path.</param>
    /// <param name="log">Where the one line saying which device runs goes; the console when null.</param>
    public static float[] PredictBatch(IGpuNetwork network, ReadOnlySpan<float> inputs, DeviceKind device = DeviceKind.Auto, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var kind = Resolve(device, log, "Predicting");
        if (kind == DeviceKind.Cpu) return Inference.PredictBatch(network, inputs);
        using var session = new GpuSession(network, kind);
        return session.PredictBatch(inputs);
    }

    /// <summary>The name of the first CUDA device ILGPU finds, or null when there is none (no NVIDIA GPU or no driver).</summary>
    public static string? FindCudaDevice() => GpuSession.FindCudaDevice(out _);

    /// <summary>Turns <see cref="DeviceKind.Auto"/> into Gpu or Cpu and writes one line saying which device runs.</summary>
    private static DeviceKind Resolve(DeviceKind device, TextWriter? log, string what)
    {
        log ??= Console.Out;
        switch (device)
        {
            case DeviceKind.Cpu:
                return DeviceKind.Cpu;
            case DeviceKind.Gpu:
                log.WriteLine($"{what} on the GPU (CUDA).");
                return DeviceKind.Gpu;
            case DeviceKind.CpuAccelerator:
                log.WriteLine($"{what} on ILGPU's CPU accelerator (a slow simulator of the GPU kernels, for tests).");
                return DeviceKind.CpuAccelerator;
            case DeviceKind.Auto:
                var name = GpuSession.FindCudaDevice(out var reason);
                if (name is not null)
                {
                    log.WriteLine($"{what} on the GPU: {name} (CUDA).");
                    return DeviceKind.Gpu;
                }

                log.WriteLine($"No CUDA GPU found ({reason}); {what.ToLowerInvariant()} on the CPU.");
                return DeviceKind.Cpu;
            default:
                throw new ArgumentOutOfRangeException(nameof(device), device, "Pass DeviceKind.Auto, Cpu, Gpu or CpuAccelerator.");
        }
    }
}

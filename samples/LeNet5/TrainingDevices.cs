using System.Runtime.CompilerServices;
using ModelGen;
using ModelGen.Gpu;

namespace LeNet5Sample;

/// <summary>The <c>--device</c> choice.</summary>
internal enum DeviceChoice
{
    Auto,
    Cpu,
    Gpu,
}

/// <summary>Something that trains the model: the CPU trainer, or the GPU trainer on a CUDA device.</summary>
internal interface ITrainingBackend
{
    /// <summary>What <c>train</c> prints after <c>device: </c>.</summary>
    string Description { get; }

    TrainingHistory Fit(LeNet5 model, Dataset train, FitOptions options);
}

/// <summary>
/// Picks the training backend for <c>--device</c>: the one place where the device matters. <c>auto</c> takes the first
/// CUDA GPU that ILGPU finds and otherwise the CPU; <c>gpu</c> requires one; <c>cpu</c> never probes. Both backends train
/// the same way (same shuffles for the same seed, Adam state and history kept on the host), so evaluation, saving and
/// <c>--resume</c> do not depend on where training ran.
/// </summary>
internal static class TrainingDevices
{
    public static DeviceChoice Parse(string value) => value switch
    {
        "auto" => DeviceChoice.Auto,
        "cpu" => DeviceChoice.Cpu,
        "gpu" => DeviceChoice.Gpu,
        _ => throw new SampleException($"--device must be auto, cpu or gpu, not '{value}'.", Program.ExitUsage),
    };

    /// <summary>Why a NativeAOT build of this program trains on the CPU only.</summary>
    public const string NativeBuildHasNoGpu =
        "GPU training needs the JIT build of this program: ILGPU, which runs the GPU kernels, generates their code at run time, " +
        "which a NativeAOT binary cannot do";

    public static ITrainingBackend Select(DeviceChoice choice, int threads)
    {
        if (choice == DeviceChoice.Cpu) return new CpuBackend($"cpu ({threads} threads)");

        // A constant false in a NativeAOT build: the compiler drops SelectWithGpu, so ILGPU is not even linked in.
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            return choice == DeviceChoice.Gpu
                ? throw new SampleException(
                    $"--device gpu: {NativeBuildHasNoGpu}. Run `dotnet run --project samples/LeNet5 -c Release -- train --device gpu`, or train on the CPU with --device cpu.",
                    Program.ExitUsage)
                : new CpuBackend($"cpu ({threads} threads; {NativeBuildHasNoGpu})");
        }

        return SelectWithGpu(choice, threads);
    }

    private static ITrainingBackend SelectWithGpu(DeviceChoice choice, int threads)
    {
        switch (choice)
        {
            case DeviceChoice.Gpu:
                return FindGpu() is { } name
                    ? new GpuBackend(name)
                    : throw new SampleException("--device gpu: no CUDA GPU found (an NVIDIA GPU and its driver are needed); use --device cpu or --device auto.", Program.ExitUsage);
            default:
                return FindGpu() is { } found ? new GpuBackend(found) : new CpuBackend("cpu (no CUDA GPU found)");
        }
    }

    /// <summary>The name of the first CUDA device, or null when there is none.</summary>
    private static string? FindGpu() => GpuTrainer.FindCudaDevice();

    private sealed class CpuBackend(string description) : ITrainingBackend
    {
        public string Description { get; } = description;

        public TrainingHistory Fit(LeNet5 model, Dataset train, FitOptions options) => Trainer.Fit(model, train, options);
    }

    private sealed class GpuBackend(string deviceName) : ITrainingBackend
    {
        public string Description { get; } = $"gpu ({deviceName}, CUDA)";

        public TrainingHistory Fit(LeNet5 model, Dataset train, FitOptions options)
        {
            // The data set and every buffer stay on the device for the whole run; the steps run in the same training loop as
            // on the CPU, and parameters, Adam moments and the history come back to the model at the end, so saving and
            // resuming work as after CPU training.
            using var session = new GpuSession(model, DeviceKind.Gpu);
            return session.Fit(train, options);
        }
    }
}

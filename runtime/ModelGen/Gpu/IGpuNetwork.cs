using ILGPU.Runtime;

namespace ModelGen.Gpu;

/// <summary>
/// A generated network that also carries ILGPU kernels for its exact shapes. The ModelGen generator implements it on
/// every model class; <see cref="GpuTrainer"/> and <see cref="GpuSession"/> work against it.
/// </summary>
public interface IGpuNetwork : INetwork
{
    /// <summary>
    /// Compiles this network's kernels for <paramref name="accelerator"/> and returns them as one set that a
    /// <see cref="GpuSession"/> calls pass by pass. Compiling takes a moment (once per session).
    /// </summary>
    GpuKernelSet CreateGpuKernels(Accelerator accelerator);
}

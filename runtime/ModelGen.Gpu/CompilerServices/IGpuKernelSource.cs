using System.ComponentModel;
using ILGPU.Runtime;

namespace ModelGen.Gpu.CompilerServices;

/// <summary>
/// A generated network that carries ILGPU kernels for its exact shapes (for generated code only). The ModelGen generator
/// implements it, explicitly, on every model class of a project that references ModelGen.Gpu, so no ILGPU type shows in
/// the model's own members; <see cref="GpuSession"/> and <see cref="GpuTrainer"/> take any <see cref="INetwork"/> and
/// look for it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGpuKernelSource
{
    /// <summary>
    /// Compiles the network's per-layer kernels for <paramref name="accelerator"/> and returns them as the passes a
    /// <see cref="GpuSession"/> queues. Compiling takes a moment: a session does it once.
    /// </summary>
    GpuKernelSet CreateGpuKernels(Accelerator accelerator);
}

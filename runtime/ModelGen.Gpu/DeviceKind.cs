namespace ModelGen.Gpu;

/// <summary>Where <see cref="GpuTrainer"/> runs a network.</summary>
public enum DeviceKind
{
    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend when one is present; otherwise the CPU path (<see cref="Trainer"/>), saying so.</summary>
    Auto = 0,

    /// <summary>The CPU path: the generated CPU code through <see cref="Trainer"/> and <see cref="Inference"/>.</summary>
    Cpu = 1,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend; <see cref="GpuNotFoundException"/> when there is none.</summary>
    Gpu = 2,

    /// <summary>
    /// ILGPU's CPU accelerator: runs the generated GPU kernels on the CPU in ILGPU's simulator. Much slower than both
    /// other paths; meant for testing the GPU code on machines without a GPU.
    /// </summary>
    CpuAccelerator = 3,
}

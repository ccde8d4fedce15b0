namespace ModelGen.Gpu;

/// <summary><see cref="DeviceKind.Gpu"/> was asked for but ILGPU finds no usable CUDA device.</summary>
public sealed class GpuNotFoundException : ModelGenException
{
    /// <summary>Creates the exception with a message that says what was found and what to do.</summary>
    public GpuNotFoundException(string message) : base(message) { }
}

/// <summary>The GPU path cannot run this request (a device error, an unsupported optimizer, buffers too large).</summary>
public sealed class GpuExecutionException : ModelGenException
{
    /// <summary>Creates the exception with a message that says what is wrong and what to do.</summary>
    public GpuExecutionException(string message) : base(message) { }

    /// <summary>Creates the exception with the device error that caused it.</summary>
    public GpuExecutionException(string message, Exception inner) : base(message, inner) { }
}

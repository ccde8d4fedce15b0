using ModelGen.Gpu;

namespace ModelGen.Gpu.Tests;

/// <summary>Device selection. Written for machines without CUDA (CI); on a machine with one they check the GPU path instead.</summary>
public sealed class DeviceTests
{
    private static readonly string? CudaDevice = GpuTrainer.FindCudaDevice();

    [Fact]
    public void GpuDevice_WithoutCuda_ThrowsTypedOneLineError()
    {
        var network = new DenseOnly(seed: 1);
        if (CudaDevice is not null)
        {
            using var session = new GpuSession(network, DeviceKind.Gpu);
            Assert.Equal(CudaDevice, session.DeviceName);
            return;
        }

        var error = Assert.Throws<GpuNotFoundException>(() => new GpuSession(network, DeviceKind.Gpu));
        Assert.StartsWith("No CUDA GPU found: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.IsAssignableFrom<ModelGenException>(error);

        var viaTrainer = Assert.Throws<GpuNotFoundException>(() =>
            GpuTrainer.Fit(network, Models.Data(network, 2, seed: 1), device: DeviceKind.Gpu, log: TextWriter.Null));
        Assert.Equal(error.Message, viaTrainer.Message);
    }

    [Fact]
    public void Auto_WithoutCuda_TrainsOnTheCpuPathAndSaysSo()
    {
        var network = Models.Randomized("DenseOnly", seed: 2);
        var reference = Models.Randomized("DenseOnly", seed: 2);
        var train = Models.Data(network, 10, seed: 3);
        var options = new FitOptions { Epochs = 1, BatchSize = 4, Seed = 7, Progress = ParityTests.Quiet(), Threads = 2 };
        var log = new StringWriter();

        GpuTrainer.Fit(network, train, options, DeviceKind.Auto, log);

        if (CudaDevice is not null)
        {
            Assert.Contains(CudaDevice, log.ToString());
            return;
        }

        Assert.StartsWith("No CUDA GPU found (", log.ToString());
        Assert.Contains("training on the CPU", log.ToString());
        Trainer.Fit(reference, train, options);
        Assert.Equal(reference.Parameters, network.Parameters); // the CPU path itself: bit for bit
    }

    [Fact]
    public void CpuDevice_PredictsWithTheCpuPathSilently()
    {
        var network = Models.Randomized("ConvStack", seed: 4);
        var inputs = Models.Data(network, 3, seed: 5).AllFeatures.ToArray();
        var log = new StringWriter();

        var outputs = GpuTrainer.PredictBatch(network, inputs, DeviceKind.Cpu, log);

        Assert.Equal(Models.CpuPredictBatch(network, inputs), outputs);
        Assert.Equal(string.Empty, log.ToString());
    }

    [Theory]
    [InlineData(DeviceKind.Auto)]
    [InlineData(DeviceKind.Cpu)]
    public void Session_OnANonAcceleratorKind_IsRefused(DeviceKind kind)
    {
        var error = Assert.Throws<ArgumentException>(() => new GpuSession(new DenseOnly(seed: 1), kind));
        Assert.Contains("DeviceKind.Gpu or DeviceKind.CpuAccelerator", error.Message);
    }

    [Fact]
    public void Session_OnANetworkWithoutGpuKernels_SaysToReferenceModelGenGpu()
    {
        // Generated where ModelGen.Gpu is not referenced: the generator writes no kernels and no ILGPU code.
        var (assembly, hints) = InProcessCompiler.Compile(
            ["using ModelGen;\nnamespace CpuOnly;\n[Sequential(4)]\n[Dense(3, Activation = Activation.Softmax)]\npublic partial class Small;\n"], referenceGpu: false);
        Assert.DoesNotContain(hints, h => h.EndsWith(".Gpu.g.cs", StringComparison.Ordinal));
        var network = (INetwork)Activator.CreateInstance(assembly.GetType("CpuOnly.Small")!, [(int?)1])!;

        var error = Assert.Throws<ArgumentException>(() => new GpuSession(network, DeviceKind.CpuAccelerator));

        Assert.Contains("has no GPU kernels", error.Message);
        Assert.Contains("ModelGen.Gpu", error.Message);
    }

    [Fact]
    public void ModelSurface_ShowsNoIlgpuType()
    {
        // The kernel source is implemented explicitly and the kernel set is private: no public member takes or returns ILGPU.
        var type = typeof(LeNet5);
        Assert.True(typeof(ModelGen.Gpu.CompilerServices.IGpuKernelSource).IsAssignableFrom(type));
        var ilgpu = typeof(ILGPU.Index1D).Assembly;
        var members = type.GetMembers(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static);
        foreach (var member in members)
        {
            var types = member switch
            {
                System.Reflection.MethodInfo m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType),
                System.Reflection.PropertyInfo p => [p.PropertyType],
                System.Reflection.FieldInfo f => [f.FieldType],
                System.Reflection.ConstructorInfo c => c.GetParameters().Select(p => p.ParameterType),
                Type nested => [nested],
                _ => [],
            };
            Assert.DoesNotContain(types, t => t.Assembly == ilgpu);
        }

        Assert.DoesNotContain(type.GetNestedTypes(), t => t.IsPublic || t.IsNestedPublic);
    }
}

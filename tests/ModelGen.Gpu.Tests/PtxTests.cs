using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ModelGen.Gpu.Tests;

/// <summary>
/// The CPU accelerator runs kernels as .NET code and accepts anything; these tests compile every generated kernel with
/// ILGPU's PTX backend for sm_90 (H100/H200), without a GPU, so code that CUDA would refuse or run in double fails here.
/// </summary>
public sealed class PtxTests
{
    public static TheoryData<string> AllModels() => new(Models.All);

    [Theory]
    [MemberData(nameof(AllModels))]
    public void EveryKernel_CompilesToPtxWithoutDoublePrecision(string model)
    {
        var type = Models.Create(model, 0).GetType();
        var kernels = type.GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(Index1D))
            .ToList();
        Assert.NotEmpty(kernels);

        using var context = Context.Create(b => b.DefaultCPU().EnableAlgorithms());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!);
        foreach (var kernel in kernels)
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(kernel), default);
            var ptx = compiled.PTXAssembly;
            Assert.Contains(".entry", ptx);
            var doubles = ptx.Split('\n').Where(line => line.Contains(".f64", StringComparison.Ordinal)).ToList();
            Assert.True(doubles.Count == 0, $"{model}.{kernel.Name} uses double precision on the GPU: {string.Join(" | ", doubles.Take(3))}");
        }

        // Gather, forward per computing layer, loss, output, Adam and the backward kernels: at least one per layer.
        Assert.True(kernels.Count >= Models.Create(model, 0).Description.Layers.Count(l => l.Kind != "Flatten") + 3);
    }
}

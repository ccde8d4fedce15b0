using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ModelGen.Gpu.Tests;

/// <summary>
/// The CPU accelerator runs kernels as .NET code and accepts anything; these tests compile every generated kernel with
/// ILGPU's PTX backend for sm_90 (H100/H200), without a GPU, with ModelGen.Gpu's shared kernels, so code that CUDA would refuse or run in double fails here.
/// </summary>
public sealed class PtxTests
{
    public static TheoryData<string> AllModels() => new(Models.All);

    [Theory]
    [MemberData(nameof(AllModels))]
    public void EveryKernel_CompilesToPtxWithoutDoublePrecision(string model)
    {
        var network = Models.Create(model, 0);
        var kernels = Kernels(network.GetType()).Concat(Kernels(typeof(GpuSession))).ToList();
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

        // A forward kernel per layer that computes (all but Flatten), plus the shared ones (gather, loss, softmax, Adam, ...).
        var generated = Kernels(network.GetType()).Count();
        Assert.True(generated >= network.Description.Layers.Count(l => l.Kind != "Flatten"), $"{model} has {generated} generated kernels");
    }

    /// <summary>Every kernel method: a static method whose first parameter is the thread index, in the type's nested types at any depth.</summary>
    private static IEnumerable<MethodInfo> Kernels(Type type)
    {
        var all = type.Assembly == typeof(GpuSession).Assembly ? type.Assembly.GetTypes() : NestedTypes(type);
        return all.SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(Index1D));
    }

    private static IEnumerable<Type> NestedTypes(Type type) =>
        new[] { type }.Concat(type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).SelectMany(NestedTypes));
}

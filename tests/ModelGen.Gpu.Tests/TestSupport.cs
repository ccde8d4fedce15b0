using System.Globalization;
using ModelGen.Gpu;

namespace ModelGen.Gpu.Tests;

/// <summary>
/// The tolerance rule of every GPU/CPU comparison: |gpu − cpu| ≤ 1e-4 · max(1, |cpu|) (relative for values above 1,
/// absolute below). The CPU path is the reference.
/// </summary>
internal static class Tolerance
{
    public const double Relative = 1e-4;

    public static bool Close(double cpu, double gpu) => Math.Abs(gpu - cpu) <= Relative * Math.Max(1.0, Math.Abs(cpu));

    public static void AssertClose(ReadOnlySpan<float> cpu, ReadOnlySpan<float> gpu, string what)
    {
        Assert.Equal(cpu.Length, gpu.Length);
        var worst = -1;
        var worstExcess = 0.0;
        for (var i = 0; i < cpu.Length; i++)
        {
            var excess = Math.Abs((double)gpu[i] - cpu[i]) / Math.Max(1.0, Math.Abs(cpu[i]));
            if (!(excess <= worstExcess)) // NaN counts as the worst
            {
                worst = i;
                worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
            }
        }

        if (worst >= 0 && !(worstExcess <= Relative))
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what}[{worst}]: CPU {cpu[worst]:R}, GPU {gpu[worst]:R} (difference {worstExcess:E2} x max(1, |cpu|) > {Relative:E0})."));
        }
    }

    public static void AssertClose(double cpu, double gpu, string what)
    {
        if (!Close(cpu, gpu)) Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{what}: CPU {cpu:R}, GPU {gpu:R}."));
    }

    /// <summary>Guards against vacuous comparisons: the reference must hold values that matter.</summary>
    public static void AssertNotAllZero(ReadOnlySpan<float> values, string what)
    {
        foreach (var v in values)
        {
            if (Math.Abs(v) > 1e-6f) return;
        }

        Assert.Fail($"{what} is all (near) zero: the comparison would prove nothing.");
    }
}

/// <summary>Test networks and data.</summary>
internal static class Models
{
    /// <summary>The CPU path's batch prediction (the reference of every GPU output).</summary>
    public static float[] CpuPredictBatch(INetwork network, ReadOnlySpan<float> inputs) =>
        ModelGen.CompilerServices.GeneratedModel.PredictBatch((ModelGen.CompilerServices.IGeneratedNetwork)network, inputs);

    public static readonly string[] All = ["ConvStack", "PaddedStack", "PoolFirst", "DenseOnly", "NoParameters", "LeNet5", "NormDrop", "GlobalPool"];

    public static INetwork Create(string name, int seed) => name switch
    {
        "ConvStack" => new ConvStack(seed),
        "PaddedStack" => new PaddedStack(seed),
        "PoolFirst" => new PoolFirst(seed),
        "DenseOnly" => new DenseOnly(seed),
        "NoParameters" => new NoParameters(seed),
        "LeNet5" => new LeNet5(seed),
        "NormDrop" => new NormDrop(seed),
        "GlobalPool" => new GlobalPool(seed),
        _ => throw new ArgumentException(name),
    };

    /// <summary>
    /// A network with Glorot kernels from <paramref name="seed"/>, non-zero biases and betas, gammas away from 1 and moving
    /// statistics away from (0, 1), so every parameter and both modes matter.
    /// </summary>
    public static INetwork Randomized(string name, int seed)
    {
        var network = Create(name, seed);
        var random = new Random(seed);
        foreach (var view in network.Description.ParameterViews)
        {
            var role = view.Name[(view.Name.LastIndexOf('/') + 1)..];
            foreach (ref var v in view.Of(network.Parameters))
            {
                var u = (float)(random.NextDouble() - 0.5);
                v = role switch
                {
                    "bias" or "beta" or "moving_mean" => 0.2f * u,
                    "gamma" or "moving_variance" => 1f + u,
                    _ => v,
                };
            }
        }

        return network;
    }

    /// <summary>count samples of uniform [-1, 1) features (both signs, so relu units live) and uniform labels.</summary>
    public static Dataset Data(INetwork network, int count, int seed)
    {
        var d = network.Description;
        var random = new Random(seed);
        var features = new float[count * d.InputLength];
        for (var i = 0; i < features.Length; i++) features[i] = (float)(2 * random.NextDouble() - 1);
        var labels = new int[count];
        for (var i = 0; i < count; i++) labels[i] = random.Next(d.OutputLength);
        return new Dataset(features, labels, d.InputLength);
    }

    public static int BatchFor(string name) => name == "LeNet5" ? 3 : 5;
}

/// <summary>One ILGPU CPU-accelerator session per test network, compiled once for the whole test run.</summary>
public sealed class Sessions : IDisposable
{
    private readonly Dictionary<string, GpuSession> _sessions = [];
    private readonly Lock _lock = new();

    /// <summary>The session of <paramref name="name"/>, its network holding a copy of <paramref name="parameters"/>, no optimizer and no history.</summary>
    internal GpuSession For(string name, float[] parameters)
    {
        GpuSession? session;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(name, out session))
            {
                session = new GpuSession(Models.Create(name, 0), DeviceKind.CpuAccelerator);
                _sessions.Add(name, session);
            }
        }

        parameters.CopyTo(session.Network.Parameters, 0);
        session.Network.Optimizer = null;
        session.Network.History = null;
        return session;
    }

    public void Dispose()
    {
        foreach (var session in _sessions.Values) session.Dispose();
        _sessions.Clear();
    }
}

/// <summary>All tests that run kernels share the sessions and run one after the other (the CPU accelerator uses every core).</summary>
[CollectionDefinition(Name)]
public sealed class AcceleratorCollection : ICollectionFixture<Sessions>
{
    public const string Name = "ILGPU CPU accelerator";
}

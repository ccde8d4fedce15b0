using System.Diagnostics;
using ModelGen;
using ModelGen.CompilerServices;
using ModelGen.Cpu;

/// <summary>
/// Where a LeNet-5 training step's time goes: each runtime kernel call of the generated passes (the same calls, in the
/// same order, on the sample's shapes, with a batch of 32 on the benchmark's threads), its multiply-adds, its GFLOP/s
/// and its share of this machine's FMA peak; then a whole measured step, whose remainder over the kernels is the
/// gather, the optimizer and the synchronisation between calls.
/// </summary>
internal static class LayerProfile
{
    private const int Batch = 32;

    // LeNet-5's layers as the generator declares their shapes (Cpu.g.cs of the sample).
    private readonly struct Conv1 : IConvShape
    {
        public static int InHeight => 28; public static int InWidth => 28; public static int InChannels => 1;
        public static int OutHeight => 28; public static int OutWidth => 28; public static int OutChannels => 6;
        public static int KernelSize => 5; public static int Stride => 1; public static int PadTop => 2; public static int PadLeft => 2;
    }

    private readonly struct Pool1 : IPoolShape
    {
        public static int InHeight => 28; public static int InWidth => 28; public static int Channels => 6;
        public static int OutHeight => 14; public static int OutWidth => 14; public static int PoolSize => 2; public static int Stride => 2;
    }

    private readonly struct Conv2 : IConvShape
    {
        public static int InHeight => 14; public static int InWidth => 14; public static int InChannels => 6;
        public static int OutHeight => 14; public static int OutWidth => 14; public static int OutChannels => 16;
        public static int KernelSize => 5; public static int Stride => 1; public static int PadTop => 2; public static int PadLeft => 2;
    }

    private readonly struct Pool2 : IPoolShape
    {
        public static int InHeight => 14; public static int InWidth => 14; public static int Channels => 16;
        public static int OutHeight => 7; public static int OutWidth => 7; public static int PoolSize => 2; public static int Stride => 2;
    }

    private readonly struct Dense1 : IDenseShape { public static int Inputs => 784; public static int Units => 120; }

    private readonly struct Dense2 : IDenseShape { public static int Inputs => 120; public static int Units => 84; }

    private readonly struct Dense3 : IDenseShape { public static int Inputs => 84; public static int Units => 10; }

    private sealed record Row(string Layer, string Pass, double Microseconds, long MultiplyAdds);

    /// <returns>The arithmetic floor: images/s of a training step at the FMA peak.</returns>
    public static double Print(Dataset train, int threads, double peakGflops)
    {
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        var pass = new BatchPass(Batch, Batch, training: true, pool);
        var random = new Random(1);
        float[] R(int length) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

        var x = train.AllFeatures.Slice(0, Batch * 784).ToArray();
        float[] c1 = R(Batch * 4704), p1 = R(Batch * 1176), c2 = R(Batch * 3136), p2 = R(Batch * 784);
        float[] d1 = R(Batch * 120), d2 = R(Batch * 84), logits = R(Batch * 10);
        float[] gc1 = R(Batch * 4704), gp1 = R(Batch * 1176), gc2 = R(Batch * 3136), gp2 = R(Batch * 784);
        float[] gd1 = R(Batch * 120), gd2 = R(Batch * 84), gLogits = R(Batch * 10);
        float[] w1 = R(150), b1 = R(6), w2 = R(2400), b2 = R(16), w3 = R(94080), b3 = R(120), w4 = R(10080), b4 = R(84), w5 = R(840), b5 = R(10);
        var g = new float[LeNet5.ParameterCount];
        var labels = Enumerable.Range(0, Batch).Select(i => train.Label(i)).ToArray();
        var scratch = new float[new long[]
        {
            Convolution.ScratchLength<Conv1>(Batch), Convolution.ScratchLength<Conv2>(Batch), Dense.ScratchLength<Dense1>(Batch),
            Dense.ScratchLength<Dense2>(Batch), Dense.ScratchLength<Dense3>(Batch),
        }.Max()];

        var rows = new List<Row>
        {
            Time("conv2d", "forward", 117_600, () => Convolution.Forward<Conv1, Activations.Tanh>(pass, x, w1, b1, c1, scratch)),
            Time("max_pooling2d", "forward", 0, () => Pooling.MaxForward<Pool1>(pass, c1, p1)),
            Time("conv2d_1", "forward", 470_400, () => Convolution.Forward<Conv2, Activations.Tanh>(pass, p1, w2, b2, c2, scratch)),
            Time("max_pooling2d_1", "forward", 0, () => Pooling.MaxForward<Pool2>(pass, c2, p2)),
            Time("dense", "forward", 94_080, () => Dense.Forward<Dense1, Activations.Tanh>(pass, p2, w3, b3, d1, scratch)),
            Time("dense_1", "forward", 10_080, () => Dense.Forward<Dense2, Activations.Tanh>(pass, d1, w4, b4, d2, scratch)),
            Time("dense_2", "forward", 840, () => Dense.Forward<Dense3, Activations.Linear>(pass, d2, w5, b5, logits, scratch)),
            Time("loss", "forward", 0, () => Losses.SoftmaxCrossEntropy(logits, labels, 10, default, gLogits, 1f / Batch, default)),
            Time("dense_2", "backward", 2 * 840, () => Dense.Backward<Dense3>(pass, d2, w5, gLogits, g.AsSpan(0, 840), g.AsSpan(840, 10), gd2, scratch)),
            Time("dense_1", "backward", 2 * 10_080, () =>
            {
                Activations.Backward<Activations.Tanh>(pass, d2, gd2, 84);
                Dense.Backward<Dense2>(pass, d1, w4, gd2, g.AsSpan(0, 10_080), g.AsSpan(10_080, 84), gd1, scratch);
            }),
            Time("dense", "backward", 2 * 94_080, () =>
            {
                Activations.Backward<Activations.Tanh>(pass, d1, gd1, 120);
                Dense.Backward<Dense1>(pass, p2, w3, gd1, g.AsSpan(0, 94_080), g.AsSpan(94_080, 120), gp2, scratch);
            }),
            Time("max_pooling2d_1", "backward", 0, () => Pooling.MaxBackward<Pool2, Activations.Tanh>(pass, c2, gp2, gc2)),
            Time("conv2d_1", "backward", 2 * 470_400, () => Convolution.Backward<Conv2>(pass, p1, w2, gc2, g.AsSpan(0, 2400), g.AsSpan(2400, 16), gp1, scratch)),
            Time("max_pooling2d", "backward", 0, () => Pooling.MaxBackward<Pool1, Activations.Tanh>(pass, c1, gp1, gc1)),
            Time("conv2d", "backward", 117_600, () => Convolution.Backward<Conv1>(pass, x, w1, gc1, g.AsSpan(0, 150), g.AsSpan(150, 6), default, scratch)),
        };

        var step = TimeStep(train, threads);
        Console.WriteLine();
        Console.WriteLine($"Per layer, batch {Batch}, {threads} threads; FMA peak {peakGflops:F0} GFLOP/s on {threads} threads ({Simd.Lanes * 32}-bit vectors)");
        Console.WriteLine($"{"layer",-17}{"pass",-10}{"µs/step",10}{"MMAC/step",11}{"GFLOP/s",9}{"of peak",9}");
        foreach (var row in rows)
        {
            var macs = row.MultiplyAdds * (double)Batch;
            var gflops = 2 * macs / (row.Microseconds * 1e3);
            var rate = row.MultiplyAdds == 0 ? "" : $"{gflops,9:F0}{gflops / peakGflops,9:P0}";
            Console.WriteLine($"{row.Layer,-17}{row.Pass,-10}{row.Microseconds,10:F1}{macs / 1e6,11:F2}{rate}");
        }

        var kernels = rows.Sum(r => r.Microseconds);
        var allMacs = rows.Sum(r => r.MultiplyAdds) * (double)Batch;
        Console.WriteLine($"{"kernels",-27}{kernels,10:F1}{allMacs / 1e6,11:F2}{2 * allMacs / (kernels * 1e3),9:F0}{2 * allMacs / (kernels * 1e3) / peakGflops,9:P0}");
        Console.WriteLine($"{"step (measured)",-27}{step,10:F1}{"",11}{2 * allMacs / (step * 1e3),9:F0}{2 * allMacs / (step * 1e3) / peakGflops,9:P0}   = {Batch / step * 1e6:N0} images/s");
        Console.WriteLine($"{"  gather, optimizer, sync",-27}{step - kernels,10:F1}");
        var floor = peakGflops * 1e9 / (2 * allMacs / Batch);
        Console.WriteLine($"arithmetic floor at the FMA peak: {floor:N0} images/s");
        return floor;
    }

    /// <summary>Mean µs of one call: the best of five runs of enough calls to fill about 100 ms, after a warm-up.</summary>
    private static Row Time(string layer, string pass, long multiplyAdds, Action call)
    {
        var warm = Stopwatch.StartNew();
        var calls = 0;
        while (warm.ElapsedMilliseconds < 300) { call(); calls++; }
        var perRun = Math.Max(10, calls / 3);
        var best = double.MaxValue;
        for (var run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < perRun; i++) call();
            best = Math.Min(best, clock.Elapsed.TotalMicroseconds / perRun);
        }

        return new Row(layer, pass, best, multiplyAdds);
    }

    /// <summary>Mean µs of a whole training step of the engine (gather, forward, loss, backward, Adam), best of five runs.</summary>
    private static double TimeStep(Dataset train, int threads)
    {
        var model = new LeNet5(seed: 1);
        var adam = new Adam();
        model.Optimizer = adam;
        using var engine = new CpuEngine(model, threads);
        engine.BeginFit(train, Batch, adam, seed: 1, augmenter: null);
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Random(7).Shuffle(order); // batches of scattered samples, as an epoch's shuffle gives
        engine.BeginEpoch(epoch: 1, order);
        var steps = train.Count / Batch;
        var next = 0;
        void Step()
        {
            engine.Step(next + 1, next % steps * Batch, Batch);
            next++;
        }

        for (var i = 0; i < 300; i++) Step();
        var best = double.MaxValue;
        for (var run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 200; i++) Step();
            best = Math.Min(best, clock.Elapsed.TotalMicroseconds / 200);
        }

        engine.EndFit();
        return best;
    }
}

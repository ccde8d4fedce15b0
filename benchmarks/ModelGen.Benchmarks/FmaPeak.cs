using System.Diagnostics;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

/// <summary>
/// This machine's multiply-add peak: every thread runs twelve independent chains of fused multiply-adds (enough to cover
/// the latency of two FMA units) with the runtime's own vector operations at the width its kernels use, and no memory
/// traffic at all.
/// </summary>
internal static class FmaPeak
{
    private const int Chains = 12;

    /// <summary>GFLOP/s (one multiply-add = 2 flops) on <paramref name="threads"/> threads.</summary>
    public static double Measure(int threads)
    {
        Run(1_000_000); // JIT and clocks up
        const long iterations = 50_000_000;
        using var start = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            Run(iterations);
        })).ToList();
        workers.ForEach(w => w.Start());
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        workers.ForEach(w => w.Join());
        return threads * (double)iterations * Chains * Simd.Lanes * 2 / clock.Elapsed.TotalSeconds / 1e9;
    }

    private static void Run(long iterations)
    {
        var body = new Body { Iterations = iterations };
        Simd.Run(ref body);
        if (body.Result == 42f) Console.WriteLine(); // keeps the chains alive
    }

    private struct Body : IWidthGeneric
    {
        public long Iterations;
        public float Result;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            TVec a0 = TOps.Broadcast(1f), a1 = TOps.Broadcast(1.1f), a2 = TOps.Broadcast(1.2f), a3 = TOps.Broadcast(1.3f);
            TVec a4 = TOps.Broadcast(1.4f), a5 = TOps.Broadcast(1.5f), a6 = TOps.Broadcast(1.6f), a7 = TOps.Broadcast(1.7f);
            TVec a8 = TOps.Broadcast(1.8f), a9 = TOps.Broadcast(1.9f), a10 = TOps.Broadcast(2f), a11 = TOps.Broadcast(2.1f);
            TVec m = TOps.Broadcast(0.999999f), c = TOps.Broadcast(1e-7f);
            for (long i = 0; i < Iterations; i++)
            {
                a0 = TOps.MultiplyAdd(a0, m, c); a1 = TOps.MultiplyAdd(a1, m, c); a2 = TOps.MultiplyAdd(a2, m, c);
                a3 = TOps.MultiplyAdd(a3, m, c); a4 = TOps.MultiplyAdd(a4, m, c); a5 = TOps.MultiplyAdd(a5, m, c);
                a6 = TOps.MultiplyAdd(a6, m, c); a7 = TOps.MultiplyAdd(a7, m, c); a8 = TOps.MultiplyAdd(a8, m, c);
                a9 = TOps.MultiplyAdd(a9, m, c); a10 = TOps.MultiplyAdd(a10, m, c); a11 = TOps.MultiplyAdd(a11, m, c);
            }

            var sum = TOps.Add(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)), TOps.Add(TOps.Add(a4, a5), TOps.Add(a6, a7)));
            Result = TOps.Sum(TOps.Add(sum, TOps.Add(TOps.Add(a8, a9), TOps.Add(a10, a11))));
        }
    }
}

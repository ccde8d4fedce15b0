using BenchmarkDotNet.Running;
using ModelGen.GeneratorBenchmarks;

// `--cold`: ModelGen's own start-up in a new process; `--breakdown`: each stage of a run (stopwatch profiles).
if (args.Contains("--cold"))
{
    ColdStart.Run();
    return;
}

if (args.Contains("--breakdown"))
{
    Breakdown.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Workload).Assembly).Run(args);

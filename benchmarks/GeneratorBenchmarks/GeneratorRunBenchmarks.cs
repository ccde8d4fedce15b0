using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.CodeAnalysis;

namespace ModelGen.GeneratorBenchmarks;

/// <summary>
/// The ModelGen generator and analyzer on the LeNet5 sample, in a warm process (JIT done): a build's run with a fresh
/// driver, the IDE's incremental runs after an edit elsewhere and in the model, and the analyzer after an edit.
/// </summary>
[MemoryDiagnoser]
public class GeneratorRunBenchmarks
{
    private Workload _workload = null!;
    private GeneratorDriver _driver = null!;
    private Compilation _otherEdited = null!;
    private Compilation _modelEdited = null!;
    private bool _toggle;

    [GlobalSetup]
    public void Setup()
    {
        _workload = new Workload();
        _driver = Workload.NewDriver().RunGenerators(_workload.Compilation);
        _otherEdited = _workload.WithText(_workload.OtherTree, Workload.Other + "// an unrelated edit\n");
        _modelEdited = _workload.WithText(_workload.ModelTree, Workload.EditedModelSource);
    }

    /// <summary>A build in a warm compiler server: new compilation, new driver, everything parsed, planned and emitted.</summary>
    [Benchmark(Baseline = true)]
    public GeneratorDriver FirstRun_NewCompilation() => Workload.NewDriver().RunGenerators(new Workload().Compilation);

    /// <summary>The IDE after a keystroke in another file: every step cached, nothing emitted.</summary>
    [Benchmark]
    public GeneratorDriver Incremental_UnrelatedEdit()
    {
        _toggle = !_toggle;
        return _driver = _driver.RunGenerators(_toggle ? _otherEdited : _workload.Compilation);
    }

    /// <summary>The IDE after a keystroke in the model (Conv2D(6 ↔ 7, …)): re-parsed, re-planned and re-emitted.</summary>
    [Benchmark]
    public GeneratorDriver Incremental_ModelEdit()
    {
        _toggle = !_toggle;
        return _driver = _driver.RunGenerators(_toggle ? _modelEdited : _workload.Compilation);
    }

    /// <summary>The analyzer's pass after a keystroke in the model: a new compilation, every MG check, no diagnostics.</summary>
    [Benchmark]
    public int Analyzer_AfterModelEdit()
    {
        _toggle = !_toggle;
        var edited = _workload.WithText(_workload.ModelTree, _toggle ? Workload.EditedModelSource : Workload.ModelSource);
        return Workload.Analyze(edited).Length;
    }
}

/// <summary>
/// A generator run as the first thing in a new process (csc without the compiler server): Roslyn's and ModelGen's
/// JIT compilation and type loading included. `--cold` separates ModelGen's own share.
/// </summary>
[SimpleJob(RunStrategy.ColdStart, launchCount: 5, warmupCount: 0, iterationCount: 1)]
public class GeneratorColdStartBenchmarks
{
    [Benchmark]
    public GeneratorDriver FirstRun_NewProcess() => Workload.NewDriver().RunGenerators(new Workload().Compilation);
}

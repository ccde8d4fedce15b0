// The GPU check: on a machine with an NVIDIA GPU, prints the device, checks one training step against the CPU path and
// times LeNet-5 epochs at several batch sizes. Usage:
//   GpuCheck [--device gpu|cpu-accelerator] [--data DIR] [--limit N] [--batches 32,128,512] [--epochs 2] [--seed 42]
// --device cpu-accelerator runs the same kernels in ILGPU's CPU simulator (slow: use a small --limit) to prove the path
// on machines without a GPU. The last line is `RESULT {json}`; the exit code is 1 when the parity check fails.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuCheck;
using ModelGen;
using ModelGen.Gpu;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

var cuda = GpuTrainer.FindCudaDevice();
Console.WriteLine($"CUDA device: {cuda ?? "none found"}");
GpuSession session;
try
{
    session = new GpuSession(new LeNet5(seed: options.Seed), options.Device);
}
catch (ModelGenException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 3;
}

using (session)
{
    Console.WriteLine($"device: {session.DeviceName} ({options.Device})");
    var mnist = options.Data is { } dir ? MnistData.LoadDirectory(dir) : Mnist.Load();
    var train = mnist.Train.ToDataset();
    if (options.Limit is { } limit) train = train.Slice(0, Math.Min(limit, train.Count));
    var test = mnist.FinalEvaluation.ToDataset();
    if (options.Limit is { } testLimit) test = test.Slice(0, Math.Min(testLimit, test.Count));
    Console.WriteLine($"LeNet-5 ({LeNet5.ParameterCount:N0} parameters), {train.Count:N0} training images (x/255), {test.Count:N0} evaluation images");

    // 1. Parity: one batch's gradient and one Adam step, GPU against the CPU path, from the same weights.
    var parity = Parity.Check(session, train.Slice(0, Math.Min(32, train.Count)), options.Seed);
    Console.WriteLine(parity.Line);

    // 2. Timing: whole epochs at each batch size, from fresh weights, data and buffers on the device.
    var runs = new List<Dictionary<string, object>>();
    foreach (var batch in options.Batches)
    {
        new LeNet5(seed: options.Seed).Parameters.CopyTo(session.Network.Parameters, 0);
        session.Network.Optimizer = null;
        session.Network.History = null;
        var steps = (train.Count + batch - 1) / batch;
        Console.WriteLine($"-- batch {batch}: {steps} step{(steps == 1 ? string.Empty : "s")} per epoch");
        var history = session.Fit(train, new FitOptions
        {
            Epochs = options.Epochs,
            BatchSize = batch,
            Seed = options.Seed,
            Progress = new ProgressReporter(Console.Out, live: false),
        });
        var clock = Stopwatch.StartNew();
        var evaluation = session.Evaluate(test);
        clock.Stop();
        var seconds = history.Seconds.ToArray();
        var best = seconds.Min();
        Console.WriteLine($"batch {batch}: epochs {string.Join(", ", seconds.Select(s => $"{s:F3} s"))}; best {train.Count / best:N0} images/s; " +
                          $"evaluation of {test.Count:N0}: {clock.Elapsed.TotalSeconds:F3} s, loss {evaluation.Loss:F4}, accuracy {evaluation.Accuracy:F4}");
        runs.Add(new Dictionary<string, object>
        {
            ["batch"] = batch,
            ["epoch_seconds"] = seconds.Select(s => Math.Round(s, 4)).ToArray(),
            ["images_per_second"] = Math.Round(train.Count / best),
            ["final_loss"] = Math.Round(history.Loss[^1], 4),
            ["eval_accuracy"] = Math.Round(evaluation.Accuracy, 4),
        });
    }

    var result = new Dictionary<string, object>
    {
        ["peer"] = "ModelGen (ILGPU)",
        ["device"] = session.DeviceName,
        ["images"] = train.Count,
        ["parity_ok"] = parity.Passed,
        ["parity_max_deviation"] = parity.MaxDeviation,
        ["runs"] = runs,
    };
    Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
    return parity.Passed ? 0 : 1;
}

internal sealed record Options(DeviceKind Device, string? Data, int? Limit, int[] Batches, int Epochs, int Seed)
{
    public const string Usage = "usage: GpuCheck [--device gpu|cpu-accelerator] [--data DIR] [--limit N] [--batches 32,128,512] [--epochs 2] [--seed 42]";

    public static Options Parse(string[] args)
    {
        var device = DeviceKind.Gpu;
        string? data = null;
        int? limit = null;
        int[] batches = [32, 128, 512];
        var epochs = 2;
        var seed = 42;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--device":
                    device = Value() switch
                    {
                        "gpu" => DeviceKind.Gpu,
                        "cpu-accelerator" => DeviceKind.CpuAccelerator,
                        var other => throw new ArgumentException($"--device must be gpu or cpu-accelerator, not '{other}'."),
                    };
                    break;
                case "--data": data = Value(); break;
                case "--limit": limit = Positive("--limit", Value()); break;
                case "--batches": batches = Value().Split(',').Select(b => Positive("--batches", b)).ToArray(); break;
                case "--epochs": epochs = Positive("--epochs", Value()); break;
                case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help": throw new ArgumentException("help");
                default: throw new ArgumentException($"unknown option '{args[i]}'.");
            }
        }

        return new Options(device, data, limit, batches, epochs, seed);
    }

    private static int Positive(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} takes positive whole numbers, not '{text}'.");
}

/// <summary>One training step on the device against the CPU path, with the tests' rule |gpu − cpu| ≤ 1e-4 · max(1, |cpu|).</summary>
internal sealed record Parity(bool Passed, double MaxDeviation, string Line)
{
    private const double Tolerance = 1e-4;

    public static Parity Check(GpuSession session, Dataset batch, int seed)
    {
        var cpu = new LeNet5(seed: seed + 1);
        cpu.Parameters.CopyTo(session.Network.Parameters, 0);
        session.Network.Optimizer = null;
        session.Network.History = null;

        var cpuGradient = new float[LeNet5.ParameterCount];
        var gpuGradient = new float[LeNet5.ParameterCount];
        var cpuLoss = Trainer.ComputeGradients(cpu, batch, cpuGradient);
        var gpuLoss = session.ComputeGradients(batch, gpuGradient);

        var options = new FitOptions { Epochs = 1, BatchSize = batch.Count, Seed = seed, Progress = new ProgressReporter(TextWriter.Null, live: false) };
        Trainer.Fit(cpu, batch, options);
        session.Fit(batch, options);

        var lossDeviation = Deviation(cpuLoss, gpuLoss);
        var gradientDeviation = LargestDeviation(cpuGradient, gpuGradient);
        var stepDeviation = LargestDeviation(cpu.Parameters, session.Network.Parameters);
        var max = Math.Max(lossDeviation, Math.Max(gradientDeviation, stepDeviation));
        var passed = max <= Tolerance;
        var line = $"parity (batch {batch.Count}, rule |gpu-cpu| <= 1e-4*max(1,|cpu|)): {(passed ? "PASS" : "FAIL")}; " +
                   $"loss {cpuLoss:F6} vs {gpuLoss:F6}, max deviation: loss {lossDeviation:E2}, gradient {gradientDeviation:E2}, " +
                   $"parameters after one Adam step {stepDeviation:E2}";
        return new Parity(passed, max, line);
    }

    private static double Deviation(double cpu, double gpu) =>
        double.IsFinite(gpu) ? Math.Abs(gpu - cpu) / Math.Max(1.0, Math.Abs(cpu)) : double.PositiveInfinity;

    private static double LargestDeviation(float[] cpu, float[] gpu)
    {
        var max = 0.0;
        for (var i = 0; i < cpu.Length; i++) max = Math.Max(max, Deviation(cpu[i], gpu[i]));
        return max;
    }
}

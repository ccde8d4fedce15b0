using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Onnx.Tests;

/// <summary>
/// The independent truths an exported model is held to: ONNX Runtime runs it on the inputs ModelGen ran, and, where a
/// python3 with the onnx package is installed, onnx.checker (with its shape inference) accepts the file. Shared by the
/// ONNX tests and the generator's random stacks.
/// </summary>
internal static class OnnxCheck
{
    /// <summary>Largest difference allowed between an ONNX Runtime output and ModelGen's, relative to the value (and absolute below 1).</summary>
    public const float Tolerance = 1e-5f;

    /// <summary>Runs <paramref name="model"/> in ONNX Runtime on <paramref name="count"/> samples laid out as Predict takes them.</summary>
    public static float[] Run(byte[] model, NetworkDescription description, float[] inputs, int count)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        long[] shape = [count, .. description.InputShape.Select(d => (long)d)];
        using var input = OrtValue.CreateTensorValueFromMemory(inputs, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [OnnxExport.InputName], [input], [OnnxExport.OutputName(description)]);
        var output = outputs[0];
        var outputShape = output.GetTensorTypeAndShape().Shape;
        Assert.Equal([count, description.OutputLength], outputShape);
        return output.GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// Exports <paramref name="network"/>, runs it in ONNX Runtime on <paramref name="inputs"/> and asserts that every
    /// output equals ModelGen's PredictBatch to <see cref="Tolerance"/> and that every sample's largest output is the
    /// same (where the top two of ModelGen's differ by more than the tolerance, so a tie may go either way).
    /// </summary>
    /// <returns>The exported bytes.</returns>
    public static byte[] AssertMatchesModelGen(INetwork network, float[] inputs, string what)
    {
        var bytes = OnnxExport.ToBytes(network);
        AssertMatchesModelGen(bytes, network, inputs, what, strictArgMax: false);
        return bytes;
    }

    /// <summary>
    /// As above for an exported <paramref name="model"/>; with <paramref name="strictArgMax"/> the classes must agree on
    /// every sample, even where ModelGen's top two are within the tolerance. Returns ModelGen's outputs.
    /// </summary>
    public static float[] AssertMatchesModelGen(byte[] model, INetwork network, float[] inputs, string what, bool strictArgMax)
    {
        var d = network.Description;
        var count = inputs.Length / d.InputLength;
        var bytes = model;
        var expected = ModelGen.CompilerServices.GeneratedModel.PredictBatch((ModelGen.CompilerServices.IGeneratedNetwork)network, inputs);
        var actual = Run(bytes, d, inputs, count);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var allowed = Tolerance * Math.Max(1f, Math.Abs(expected[i]));
            if (!(Math.Abs(expected[i] - actual[i]) <= allowed))
            {
                Assert.Fail($"{what}: output {i % d.OutputLength} of sample {i / d.OutputLength} is {actual[i]:R} in ONNX Runtime, {expected[i]:R} in ModelGen (allowed {allowed:G3}).");
            }
        }

        for (var n = 0; n < count; n++)
        {
            var e = expected.AsSpan(n * d.OutputLength, d.OutputLength);
            var a = actual.AsSpan(n * d.OutputLength, d.OutputLength);
            if (strictArgMax || Margin(e) > 2 * Tolerance * Math.Max(1f, Math.Abs(e[ArgMax(e)])))
            {
                Assert.True(ArgMax(e) == ArgMax(a), $"{what}: sample {n}: ONNX Runtime's class is {ArgMax(a)}, ModelGen's {ArgMax(e)}.");
            }
        }

        return expected;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }

        return best;
    }

    /// <summary>The largest value minus the second largest (infinite for one value).</summary>
    private static float Margin(ReadOnlySpan<float> values)
    {
        if (values.Length < 2) return float.PositiveInfinity;
        var best = ArgMax(values);
        var second = float.NegativeInfinity;
        for (var i = 0; i < values.Length; i++)
        {
            if (i != best && values[i] > second) second = values[i];
        }

        return values[best] - second;
    }

    /// <summary>
    /// A python3 that imports onnx (Debian's python3-onnx installs it for the system python, which need not be the first
    /// python3 on PATH), or null when there is none.
    /// </summary>
    public static string? PythonWithOnnx { get; } = FindPythonWithOnnx();

    /// <summary>
    /// Runs onnx.checker.check_model(full_check=True) on each file (strict shape inference included) in one python
    /// process; returns one line per rejected file (empty when all pass).
    /// </summary>
    public static IReadOnlyList<string> CheckerErrors(string python, IReadOnlyList<string> files)
    {
        const string Script = """
            import sys, onnx
            for path in sys.argv[1:]:
                try:
                    onnx.checker.check_model(onnx.load(path), full_check=True)
                except Exception as e:
                    print(path + ": " + str(e).replace("\n", " "))
            """;
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        foreach (var file in files) start.ArgumentList.Add(file);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("onnx.checker did not finish within 5 minutes.");
        }

        Assert.True(process.ExitCode == 0, $"python3 with onnx failed (exit {process.ExitCode}): {stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string? FindPythonWithOnnx()
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var start = new ProcessStartInfo(candidate, ["-c", "import onnx.checker"]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                using var process = Process.Start(start);
                if (process is null) continue;
                process.StandardOutput.ReadToEnd();
                process.StandardError.ReadToEnd();
                if (process.WaitForExit(TimeSpan.FromSeconds(60)) && process.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed there.
            }
        }

        return null;
    }
}

using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Seeded random layer stacks, valid and invalid: each must end in MG diagnostics or in code that compiles cleanly and
/// runs a forward and a backward pass. Never a generator exception (CS8785/AD0001) or a compiler error in generated code.
/// </summary>
public class RandomStackTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Stacks = 520;
    private const int ModelsPerAssembly = 40;

    [Fact]
    public void RandomStacks_EitherDiagnoseOrCompileAndRun()
    {
        var random = new Random(20261127);
        var valid = new List<string>();
        var diagnosed = 0;
        for (var i = 0; i < Stacks; i++)
        {
            var name = $"Net{i}";
            var source = RandomModel(random, name);
            var run = GeneratorHarness.Run(source);
            Assert.True(run.GeneratorException is null, $"generator threw on:\n{source}\n{run.GeneratorException}");
            Assert.True(run.GeneratorDiagnostics.IsEmpty, $"the generator reported diagnostics (only the analyzer may) for:\n{source}");
            var all = run.AllDiagnostics;
            Assert.DoesNotContain(all, d => d.Id is "CS8785" or "AD0001");
            var generatedProblems = all.Where(d => d.Severity >= DiagnosticSeverity.Warning && IsGenerated(d)).ToList();
            Assert.True(generatedProblems.Count == 0, $"generated code has diagnostics for:\n{source}\n{string.Join("\n", generatedProblems)}");
            var errors = all.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0)
            {
                Assert.True(errors.All(d => d.Id.StartsWith("MG", StringComparison.Ordinal)), $"non-MG errors for:\n{source}\n{string.Join("\n", errors)}");
                diagnosed++;
            }
            else
            {
                Assert.NotEmpty(run.Sources);
                valid.Add(source);
            }
        }

        // Both outcomes must be common, or the generator of stacks is not exercising the checks.
        Assert.InRange(diagnosed, Stacks / 5, Stacks * 4 / 5);
        Assert.InRange(valid.Count, Stacks / 5, Stacks * 4 / 5);

        output.WriteLine($"{Stacks} stacks: {diagnosed} diagnosed, {valid.Count} generated, compiled and run");
        var ran = 0;
        var exports = Directory.CreateTempSubdirectory("modelgen-random-onnx-");
        var onnxTime = new System.Diagnostics.Stopwatch();
        try
        {
            foreach (var group in valid.Chunk(ModelsPerAssembly))
            {
                var run = GeneratorHarness.Run(group);
                var assembly = run.Load();
                foreach (var type in assembly.GetTypes().Where(t => typeof(INetwork).IsAssignableFrom(t)))
                {
                    var onnx = RunOnce(type, valid.Single(s => s.Contains($"partial class {type.Name};", StringComparison.Ordinal)), onnxTime);
                    File.WriteAllBytes(Path.Combine(exports.FullName, type.Name + ".onnx"), onnx);
                    ran++;
                }
            }

            Assert.Equal(valid.Count, ran);
            onnxTime.Start();
            CheckExports(exports.FullName);
            onnxTime.Stop();
            output.WriteLine($"ONNX export, ONNX Runtime and onnx.checker took {onnxTime.Elapsed.TotalSeconds:F1} s of this test");
        }
        finally
        {
            exports.Delete(recursive: true);
        }
    }

    /// <summary>onnx.checker, with full shape inference, accepts every export (where python3 with onnx is installed).</summary>
    private void CheckExports(string folder)
    {
        if (ModelGen.Onnx.Tests.OnnxCheck.PythonWithOnnx is not { } python)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI needs python3 with onnx (Debian python3-onnx): .ci/run installs it.");
            output.WriteLine("python3 with onnx not found: the exports were checked by ONNX Runtime only.");
            return;
        }

        var files = Directory.GetFiles(folder, "*.onnx").Order(StringComparer.Ordinal).ToList();
        var errors = ModelGen.Onnx.Tests.OnnxCheck.CheckerErrors(python, files);
        Assert.True(errors.Count == 0, "onnx.checker rejects exports:\n" + string.Join("\n", errors));
        output.WriteLine($"onnx.checker accepted all {files.Count} exports");
    }

    private static bool IsGenerated(Diagnostic d) =>
        d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true;

    /// <summary>
    /// Forward and backward on random data: outputs and loss must be finite; the workspace constant is what the engine
    /// allocates; the ONNX export computes the same outputs in ONNX Runtime. Returns the export.
    /// </summary>
    private static byte[] RunOnce(Type type, string source, System.Diagnostics.Stopwatch onnxTime)
    {
        var network = (ModelGen.CompilerServices.IGeneratedNetwork)Activator.CreateInstance(type, [(int?)7])!;
        var d = network.Description;
        var random = new Random(1);
        var inputs = Enumerable.Range(0, 3 * d.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        var output = ModelGen.CompilerServices.GeneratedModel.PredictBatch(network, inputs);
        Assert.All(output, v => Assert.True(float.IsFinite(v), $"{type.Name}: non-finite output"));
        var gradient = new float[d.TrainableParameterCount];
        var loss = Trainer.ComputeGradients(network, new Dataset(inputs, [0, d.OutputLength - 1, 0], d.InputLength), gradient, threads: 2);
        Assert.True(float.IsFinite(loss), $"{type.Name}: loss {loss}");
        Assert.All(gradient, v => Assert.True(float.IsFinite(v), $"{type.Name}: non-finite gradient"));
        Assert.Equal(type.GetField("ParameterCount")!.GetValue(null), d.ParameterCount);
        Assert.Equal(sizeof(float) * network.WorkspaceLength(32), type.GetField("WorkspaceBytesPerBatch")!.GetValue(null));
        onnxTime.Start();
        var onnx = ModelGen.Onnx.Tests.OnnxCheck.AssertMatchesModelGen(network, inputs, $"{type.Name}:\n{source}");
        onnxTime.Stop();
        return onnx;
    }

    /// <summary>A random model: mostly plausible stacks, with a fair share of mistakes of every kind.</summary>
    internal static string RandomModel(Random random, string name)
    {
        var text = new StringBuilder("using ModelGen;\n");
        var image = random.Next(5) != 0;
        bool Chance(int percent) => random.Next(100) < percent;
        int Small(int max) => Chance(3) ? random.Next(-1, 1) : random.Next(1, max + 1);
        text.Append(image
            ? $"[Sequential({Small(12)}, {Small(12)}, {Small(3)})]\n"
            : $"[Sequential({Small(40)})]\n");

        var layers = random.Next(Chance(3) ? 0 : 1, 7);
        var flat = !image;
        for (var i = 0; i < layers; i++)
        {
            var last = i == layers - 1;
            var spatialChoice = !flat ? random.Next(10) : random.Next(10) < 1 ? random.Next(4) : 4 + random.Next(6);
            var inputShape = Chance(8) ? $", InputShape = new[] {{ {string.Join(", ", Enumerable.Range(0, Chance(70) ? 3 : 1).Select(_ => Small(12)))} }}" : string.Empty;
            if (Chance(18))
            {
                // The layers whose shape passes through, and GlobalAveragePooling2D, with a share of out-of-range arguments.
                switch (random.Next(3))
                {
                    case 0:
                        var normalization = Chance(4) ? "Momentum = 1.5" : Chance(4) ? "Epsilon = 0" : Chance(30) ? "Momentum = 0.9, Epsilon = 0.01" : string.Empty;
                        text.Append(normalization.Length > 0 ? $"[BatchNormalization({normalization})]\n" : "[BatchNormalization]\n");
                        break;
                    case 1:
                        text.Append($"[Dropout({(Chance(5) ? "1.0" : Chance(50) ? "0.25" : "0.5")})]\n");
                        break;
                    default:
                        text.Append("[GlobalAveragePooling2D]\n");
                        flat = true;
                        break;
                }

                continue;
            }

            switch (spatialChoice)
            {
                case 0:
                case 1:
                case 2:
                    text.Append($"[Conv2D({Small(6)}, {Small(4)}{Stride()}{Padding()}{Activation(last)}{inputShape})]\n");
                    break;
                case 3:
                    text.Append($"[{(Chance(50) ? "MaxPool2D" : "AvgPool2D")}({Small(3)}{Stride()}{inputShape})]\n");
                    break;
                case 4:
                case 5:
                    text.Append(inputShape.Length > 0 ? $"[Flatten(InputShape = {inputShape[15..]})]\n" : "[Flatten]\n");
                    flat = true;
                    break;
                default:
                    text.Append($"[Dense({Small(12)}{Activation(last)}{inputShape})]\n");
                    flat = true;
                    break;
            }
        }

        text.Append($"public partial class {name};\n");
        return text.ToString();

        string Stride() => Chance(25) ? $", Stride = {Small(3)}" : string.Empty;

        string Padding() => Chance(40) ? ", Padding = Padding.Same" : Chance(2) ? ", Padding = (Padding)5" : string.Empty;

        string Activation(bool last)
        {
            var names = new[] { "None", "Tanh", "Relu", "Sigmoid", "Softmax" };
            if (Chance(30)) return string.Empty;
            var pick = last && Chance(50) ? "Softmax" : names[random.Next(Chance(4) ? 5 : 4)];
            return $", Activation = Activation.{pick}";
        }
    }
}

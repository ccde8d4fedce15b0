using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelGen.Generator;

namespace ModelGen.Gpu.Tests;

/// <summary>
/// Seeded random valid layer stacks (every layer kind, padding, stride, pool size and activation, in unusual orders),
/// run through the real generator in-process: the generated GPU kernels on ILGPU's CPU accelerator must match the
/// generated CPU code for outputs, loss and every gradient.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class RandomStackTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Stacks = 16;

    [Fact]
    public void RandomStacks_GpuKernelsMatchCpuCode()
    {
        var random = new Random(20261127);
        var sources = new List<string>();
        for (var i = 0; i < Stacks; i++) sources.Add(RandomStack(random, $"Net{i}"));
        var assembly = Compile(sources);
        output.WriteLine(string.Join("\n", sources.Select(s => string.Join(" ", s.Split('\n').Skip(2).Select(l => l.Trim())))));

        var checkedModels = 0;
        foreach (var (type, source) in assembly.GetTypes().Where(t => typeof(IGpuNetwork).IsAssignableFrom(t)).OrderBy(t => t.Name, StringComparer.Ordinal)
                     .Select(t => (t, sources.Single(s => s.Contains($"partial class {t.Name};", StringComparison.Ordinal)))))
        {
            var cpu = (IGpuNetwork)Activator.CreateInstance(type, [(int?)3])!;
            var random2 = new Random(checkedModels);
            foreach (var view in cpu.Description.ParameterViews.Where(v => v.Name.EndsWith("/bias", StringComparison.Ordinal)))
            {
                foreach (ref var b in view.Of(cpu.Parameters)) b = (float)(random2.NextDouble() - 0.5) * 0.2f;
            }

            using var gpu = new GpuSession((IGpuNetwork)Activator.CreateInstance(type, [(int?)3])!, DeviceKind.CpuAccelerator);
            cpu.Parameters.CopyTo(gpu.Network.Parameters, 0);
            var data = Models.Data(cpu, 3, seed: checkedModels);
            var what = $"{type.Name}\n{source}\n";

            Tolerance.AssertClose(Inference.PredictBatch(cpu, data.AllFeatures), gpu.PredictBatch(data.AllFeatures), what + "outputs");
            var p = cpu.Description.ParameterCount;
            var expected = new float[p];
            var actual = new float[p];
            var expectedLoss = Trainer.ComputeGradients(cpu, data, expected, threads: 2);
            var actualLoss = gpu.ComputeGradients(data, actual);
            Tolerance.AssertClose(expectedLoss, actualLoss, what + "loss");
            Tolerance.AssertClose(expected, actual, what + "gradient");
            checkedModels++;
        }

        Assert.Equal(Stacks, checkedModels);
    }

    /// <summary>A valid stack: shapes are tracked so that every window fits and Dense only follows Flatten.</summary>
    private static string RandomStack(Random random, string name)
    {
        var text = new StringBuilder();
        text.AppendLine("using ModelGen;");
        text.AppendLine("namespace RandomGpu;");
        int h = random.Next(3, 10), w = random.Next(3, 10), c = random.Next(1, 4);
        var image = random.Next(5) != 0;
        var length = random.Next(2, 9);
        text.AppendLine(image ? Invariant($"[Sequential({h}, {w}, {c})]") : Invariant($"[Sequential({length})]"));
        var layers = random.Next(2, 8);
        string[] activations = ["Activation.None", "Activation.Tanh", "Activation.Relu", "Activation.Sigmoid"];
        for (var i = 0; i < layers; i++)
        {
            var last = i == layers - 1;
            var activation = last && random.Next(2) == 0 ? "Activation.Softmax" : activations[random.Next(activations.Length)];
            if (image)
            {
                var choice = random.Next(last ? 4 : 5); // conv twice as likely; Flatten never last (the test wants a trainable tail)
                var small = Math.Min(h, w);
                if (choice <= 1)
                {
                    var same = random.Next(2) == 0;
                    var k = random.Next(1, Math.Min(small, 4) + 1);
                    var s = random.Next(1, 3);
                    var filters = random.Next(1, 4);
                    text.AppendLine(Invariant($"[Conv2D({filters}, {k}, Stride = {s}, Padding = Padding.{(same ? "Same" : "Valid")}, Activation = {activation})]"));
                    (h, w) = same ? ((h + s - 1) / s, (w + s - 1) / s) : ((h - k) / s + 1, (w - k) / s + 1);
                    c = filters;
                }
                else if (choice is 2 or 3)
                {
                    var p = random.Next(1, Math.Min(small, 3) + 1);
                    var s = random.Next(1, p + 1);
                    text.AppendLine(Invariant($"[{(choice == 2 ? "MaxPool2D" : "AvgPool2D")}({p}, Stride = {s})]"));
                    (h, w) = ((h - p) / s + 1, (w - p) / s + 1);
                }
                else
                {
                    text.AppendLine("[Flatten]");
                    image = false;
                    length = h * w * c;
                }
            }
            else
            {
                var units = random.Next(1, 6);
                text.AppendLine(Invariant($"[Dense({units}, Activation = {activation})]"));
                length = units;
            }
        }

        text.AppendLine(Invariant($"public partial class {name};"));
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static Assembly Compile(List<string> sources)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var references = new List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);
        var runtime = typeof(INetwork).Assembly;
        references.Add(MetadataReference.CreateFromFile(runtime.Location));
        foreach (var name in runtime.GetReferencedAssemblies())
        {
            if (name.Name is null || name.Name.StartsWith("System", StringComparison.Ordinal) || name.Name == "netstandard") continue;
            references.Add(MetadataReference.CreateFromFile(Assembly.Load(name).Location));
        }

        var compilation = CSharpCompilation.Create(
            "RandomGpuStacks",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"Net{i}.cs")),
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true)
                // As the SDK does: ILGPU targets an older System.Runtime, which unifies with .NET 10's.
                .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
        CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var problems = generatorDiagnostics.Concat(output.GetDiagnostics()).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, "The random stacks do not compile cleanly:\n" + string.Join("\n", problems) + "\n" + string.Join("\n", sources));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return Assembly.Load(stream.ToArray());
    }
}

using System.Globalization;
using System.Text;

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
        var (assembly, _) = InProcessCompiler.Compile(sources, referenceGpu: true);
        output.WriteLine(string.Join("\n", sources.Select(s => string.Join(" ", s.Split('\n').Skip(2).Select(l => l.Trim())))));

        var checkedModels = 0;
        foreach (var type in assembly.GetTypes().Where(t => typeof(INetwork).IsAssignableFrom(t)).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var source = sources.Single(s => s.Contains($"partial class {type.Name};", StringComparison.Ordinal));
            var cpu = (INetwork)Activator.CreateInstance(type, [(int?)3])!;
            var random2 = new Random(checkedModels);
            foreach (var view in cpu.Description.ParameterViews.Where(v => v.Name.EndsWith("/bias", StringComparison.Ordinal)))
            {
                foreach (ref var b in view.Of(cpu.Parameters)) b = (float)(random2.NextDouble() - 0.5) * 0.2f;
            }

            using var gpu = new GpuSession((INetwork)Activator.CreateInstance(type, [(int?)3])!, DeviceKind.CpuAccelerator);
            cpu.Parameters.CopyTo(gpu.Network.Parameters, 0);
            var data = Models.Data(cpu, 3, seed: checkedModels);
            var what = $"{type.Name}\n{source}\n";

            Tolerance.AssertClose(Models.CpuPredictBatch(cpu, data.AllFeatures), gpu.PredictBatch(data.AllFeatures), what + "outputs");
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
}

using System.Globalization;

namespace ModelGen.Package.Tests;

/// <summary>
/// End to end: a fresh console project adds the freshly packed ModelGen package, declares a model, builds, runs a
/// forward pass and one training step; a shape mistake fails `dotnet build` with the MG error at its place.
/// </summary>
[Collection(PackageCollection.Name)]
public class ConsumerTests(PackageUnderTest package)
{
    private readonly ConsumerFixture fixture = package.Consumers;

    // Conv2D(4, 3) on 8x8x1 -> 6x6x4, MaxPool2D(2) -> 3x3x4, Flatten -> 36, Dense(3).
    private const string Model = """
        using ModelGen;

        [Sequential(8, 8, 1)]
        [Conv2D(4, 3, Activation = Activation.Tanh)]
        [MaxPool2D(2)]
        [Flatten]
        [Dense(3, Activation = Activation.Softmax)]
        public partial class Tiny;
        """;

    private const string Program = """
        using System.Globalization;
        using ModelGen;

        const int count = 24;
        var random = new Random(7);
        var features = new float[count * Tiny.InputLength];
        for (var i = 0; i < features.Length; i++) features[i] = random.NextSingle();
        var labels = new int[count];
        for (var i = 0; i < count; i++) labels[i] = i % Tiny.OutputLength;
        var data = new Dataset(features, labels, Tiny.InputLength);

        var model = new Tiny(seed: 42);
        Console.WriteLine($"parameters {Tiny.ParameterCount}");
        Print("input", data.Features(0).ToArray());
        Print("weights", model.Parameters);
        Print("forward", model.Predict(data.Features(0)));

        var gradient = new float[Tiny.ParameterCount];
        var loss = model.ComputeGradients(data, gradient);
        Print("gradient", gradient);
        var history = model.Fit(data, epochs: 1, batchSize: count, seed: 1, progress: new ProgressReporter(TextWriter.Null, live: false));
        Print("trained", model.Parameters);
        Console.WriteLine(FormattableString.Invariant($"loss {loss:R} {history.Loss[0]:R}"));
        model.ExportOnnx("tiny.onnx");
        Console.WriteLine($"onnx {new FileInfo("tiny.onnx").Length}");

        static void Print(string name, float[] values) =>
            Console.WriteLine(name + " " + string.Join(" ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        """;

    [Fact]
    public void FreshConsumer_BuildsFromThePackage_RunsForwardAndOneAdamStep()
    {
        var project = fixture.CreateProject("Consumer", new Dictionary<string, string> { ["Model.cs"] = Model, ["Program.cs"] = Program });
        var (buildExit, buildOutput) = Dotnet.Run(project, fixture.Environment, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.True(buildExit == 0, "dotnet build of the consumer failed:\n" + buildOutput);

        // The package restored is byte for byte the one just packed, not a cached one of the same version.
        var version = PackageUnderTest.Version;
        var restored = Path.Combine(fixture.PackagesFolder, "modelgen", version, $"modelgen.{version}.nupkg");
        Assert.Equal(File.ReadAllBytes(package.NupkgPath), File.ReadAllBytes(restored));

        // A CPU-only consumer: neither the GPU library nor a graphics library (nor their native assets) is restored.
        var restoredPackages = ConsumerFixture.RestoredPackages(project);
        Assert.Contains("modelgen", restoredPackages);
        Assert.DoesNotContain(restoredPackages, id => id.StartsWith("ilgpu", StringComparison.Ordinal)
            || id.StartsWith("skiasharp", StringComparison.Ordinal) || id.StartsWith("scottplot", StringComparison.Ordinal)
            || id.StartsWith("modelgen.", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(project, "bin", "Release", "net10.0"), "*", SearchOption.AllDirectories),
            f => Path.GetFileName(f).Contains("Skia", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(f).Contains("ILGPU", StringComparison.OrdinalIgnoreCase));

        var (runExit, output) = Dotnet.Run(project, fixture.Environment, Path.Combine(project, "bin", "Release", "net10.0", "Consumer.dll"));
        Assert.True(runExit == 0, "The consumer failed:\n" + output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToDictionary(l => l[..l.IndexOf(' ')], l => l[(l.IndexOf(' ') + 1)..]);

        // 3·3·1·4 + 4 (conv) + 36·3 + 3 (dense).
        Assert.Equal("151", lines["parameters"]);
        var input = Floats(lines["input"]);
        var weights = Floats(lines["weights"]);
        Assert.Equal(64, input.Length);
        Assert.Equal(151, weights.Length);

        // The forward pass against a plain reference of the same network in Keras layouts.
        var expected = ReferenceForward(input, weights);
        var forward = Floats(lines["forward"]);
        Assert.Equal(3, forward.Length);
        for (var k = 0; k < 3; k++) Assert.Equal(expected[k], forward[k], 1e-5);

        // One Adam step from zero moments moves each weight by lr·g/(|g| + ε/sqrt(1-β2)): lr·sign(g) where |g| ≫ ε.
        var gradient = Floats(lines["gradient"]);
        var trained = Floats(lines["trained"]);
        var moved = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            double g = gradient[i];
            var step = 0.001 * g / (Math.Abs(g) + 1e-7 / Math.Sqrt(0.001));
            Assert.True(Math.Abs(weights[i] - step - trained[i]) < 2e-6, $"weight {i}: {weights[i]} - {step} != {trained[i]}");
            if (Math.Abs(g) > 1e-3) moved++;
        }

        Assert.True(moved > 75, $"only {moved} of 151 weights had a sizeable gradient");
        var losses = Floats(lines["loss"]);
        Assert.InRange(losses[0], 0.5, 3.0);           // about ln 3 for an untrained 3-class softmax
        Assert.Equal(losses[0], losses[1], 1e-5);      // Fit's loss is the same batch before its step

        // ONNX export is in the lean package: 151 floats of initializers and a handful of nodes.
        Assert.InRange(long.Parse(lines["onnx"], CultureInfo.InvariantCulture), 151 * sizeof(float), 64 * 1024);
    }

    [Fact]
    public void PlottingConsumer_RestoresScottPlotThroughModelGenPlotting_AndDrawsAHistory()
    {
        const string program = """
            using ModelGen;

            var features = new float[12 * Tiny.InputLength];
            for (var i = 0; i < features.Length; i++) features[i] = (i % 17) / 17f;
            var labels = new int[12];
            for (var i = 0; i < labels.Length; i++) labels[i] = i % Tiny.OutputLength;
            var history = new Tiny(seed: 3).Fit(new Dataset(features, labels, Tiny.InputLength), epochs: 2, batchSize: 4, seed: 1,
                progress: new ProgressReporter(TextWriter.Null, live: false));
            HistoryPlot.SavePng(history, "history.png");
            Console.WriteLine(new FileInfo("history.png").Length);
            """;
        var project = fixture.CreateProject("PlottingConsumer", new Dictionary<string, string> { ["Model.cs"] = Model, ["Program.cs"] = program }, "ModelGen.Plotting");
        var (buildExit, buildOutput) = Dotnet.Run(project, fixture.Environment, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.True(buildExit == 0, "dotnet build of the plotting consumer failed:\n" + buildOutput);

        // The graphics libraries come with the plotting package, and only the GPU library stays out.
        var restoredPackages = ConsumerFixture.RestoredPackages(project);
        Assert.Contains("modelgen.plotting", restoredPackages);
        Assert.Contains("scottplot", restoredPackages);
        Assert.Contains(restoredPackages, id => id.StartsWith("skiasharp", StringComparison.Ordinal));
        Assert.DoesNotContain(restoredPackages, id => id.StartsWith("ilgpu", StringComparison.Ordinal));

        var (runExit, output) = Dotnet.Run(project, fixture.Environment, Path.Combine(project, "bin", "Release", "net10.0", "PlottingConsumer.dll"));
        Assert.True(runExit == 0, "The plotting consumer failed:\n" + output);
        var png = File.ReadAllBytes(Path.Combine(project, "history.png"));
        Assert.Equal(long.Parse(output.Trim(), CultureInfo.InvariantCulture), png.Length);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void ShapeMistake_FailsDotnetBuild_WithTheMGErrorAtItsPlace()
    {
        var broken = Model.Replace("[Flatten]\n", string.Empty).Replace("[Flatten]\r\n", string.Empty);
        Assert.DoesNotContain("Flatten", broken);
        var project = fixture.CreateProject("Broken", new Dictionary<string, string>
        {
            ["Model.cs"] = broken,
            ["Program.cs"] = "System.Console.WriteLine(typeof(Tiny).Name);\n",
        });
        var (exitCode, output) = Dotnet.Run(project, fixture.Environment, "build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.NotEqual(0, exitCode);
        Assert.Contains(
            "Model.cs(6,2): error MG0106: Dense(3) (Dense #3) needs a 1-D input but receives 3x3x4 from MaxPool2D #2; insert [Flatten] before it",
            output);
        Assert.DoesNotContain("error CS", output); // no generated code that fails to compile
    }

    private static float[] Floats(string line) =>
        [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => float.Parse(v, CultureInfo.InvariantCulture))];

    /// <summary>Conv2D(4, 3, valid, tanh) → MaxPool2D(2) → Flatten (channels last) → Dense(3) → softmax, in doubles.</summary>
    private static double[] ReferenceForward(float[] x, float[] w)
    {
        const int convKernel = 0, convBias = 36, denseKernel = 40, denseBias = 148;
        var conv = new double[6, 6, 4];
        for (var y = 0; y < 6; y++)
        for (var xx = 0; xx < 6; xx++)
        for (var c = 0; c < 4; c++)
        {
            double sum = w[convBias + c];
            for (var ky = 0; ky < 3; ky++)
            for (var kx = 0; kx < 3; kx++)
                sum += x[(y + ky) * 8 + xx + kx] * w[convKernel + (ky * 3 + kx) * 4 + c]; // kernel [kh, kw, in=1, out]
            conv[y, xx, c] = Math.Tanh(sum);
        }

        var flat = new double[36];
        for (var y = 0; y < 3; y++)
        for (var xx = 0; xx < 3; xx++)
        for (var c = 0; c < 4; c++)
        {
            var max = double.NegativeInfinity;
            for (var py = 0; py < 2; py++)
            for (var px = 0; px < 2; px++)
                max = Math.Max(max, conv[2 * y + py, 2 * xx + px, c]);
            flat[(y * 3 + xx) * 4 + c] = max;
        }

        var logits = new double[3];
        for (var k = 0; k < 3; k++)
        {
            logits[k] = w[denseBias + k];
            for (var i = 0; i < 36; i++) logits[k] += flat[i] * w[denseKernel + i * 3 + k]; // kernel [in, out]
        }

        var top = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - top)).ToArray();
        return [.. exp.Select(e => e / exp.Sum())];
    }
}

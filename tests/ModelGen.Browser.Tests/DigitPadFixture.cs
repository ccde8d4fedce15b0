using System.Diagnostics;
using LeNet5Sample;
using PuppeteerSharp;

namespace ModelGen.Browser.Tests;

/// <summary>
/// Everything the browser tests share, made once: a LeNet5 trained for one epoch on MNIST (seed 42, as <c>train</c>
/// does by default), DigitPad published with that model (<c>dotnet publish -p:DigitPadModel=…</c>, the build step a
/// user runs), the published folder on a static file server on 127.0.0.1, and a headless Chromium.
/// </summary>
/// <remarks>
/// The model is trained here rather than committed: a model file checked in would stop loading whenever the file format
/// or the network's fingerprint changes, and a fresh one costs a few seconds. It is the network the page compiles (the
/// same source file), saved by the same Save, so it is what <c>train</c> writes.
/// </remarks>
public sealed class DigitPadFixture : IAsyncLifetime
{
    /// <summary>The system's Chromium (Debian's package), or the one <c>CHROMIUM_PATH</c> names.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(8);

    public string Root { get; } = Directory.CreateTempSubdirectory("modelgen-digitpad-").FullName;

    /// <summary>Where screenshots and measurements go: beside the test assembly, so they outlive the run.</summary>
    public string OutputDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "digitpad")).FullName;

    public string ModelPath => Path.Combine(Root, "model", "model.mgm");

    /// <summary>The published page (the wwwroot folder of the publish output).</summary>
    public string SiteRoot => Path.Combine(Root, "site", "wwwroot");

    public LeNet5 Model { get; private set; } = null!;

    public MnistData Mnist { get; private set; } = null!;

    public StaticSite Site { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public TimeSpan TrainTime { get; private set; }

    public Measurements Measurements { get; } = new();

    public TimeSpan PublishTime { get; private set; }

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium is not at {ChromiumPath}: install it (Debian: apt-get install chromium; .ci/run does) or set CHROMIUM_PATH to its executable.");
        }

        var clock = Stopwatch.StartNew();
        Mnist = ModelGen.Mnist.Load();
        Model = new LeNet5(seed: 42);
        Model.Fit(Mnist.Train.ToDataset(), epochs: 1, validation: Mnist.Validation.ToDataset(), seed: 42,
            progress: new ProgressReporter(TextWriter.Null, live: false));
        Model.History!.Evaluation = Trainer.Evaluate(Model, Mnist.FinalEvaluation.ToDataset());
        Model.Save(ModelPath);
        TrainTime = clock.Elapsed;
        Measurements.NativePrediction(Model, Mnist.FinalEvaluation.Image(0).ToArray());

        clock.Restart();
        await PublishAsync();
        PublishTime = clock.Elapsed;

        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Site = await StaticSite.StartAsync(SiteRoot, start.Token);
        Browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // As root in a container: no sandbox; no GPU; /dev/shm may be small.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
            Timeout = 60_000,
            ProtocolTimeout = 60_000,
            DefaultViewport = new ViewPortOptions { Width = 820, Height = 560 },
        });
    }

    /// <summary><c>dotnet publish samples/DigitPad</c> with the trained model as its default, into <see cref="Root"/>/site.</summary>
    private async Task PublishAsync()
    {
        var project = Path.Combine(BuildInfo.RepositoryRoot, "samples", "DigitPad", "DigitPad.csproj");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = BuildInfo.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The page and the projects it references were built with this test (its project references them), so the publish
        // builds nothing shared: other test projects may be building at the same time.
        foreach (var argument in new[]
                 {
                     "publish", project, "-c", BuildInfo.Configuration, "-o", Path.Combine(Root, "site"), "--no-restore",
                     "-p:BuildProjectReferences=false", $"-p:DigitPadModel={ModelPath}", "-nodeReuse:false", "-p:UseSharedCompilation=false",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        // `dotnet test` runs us under MSBuild, whose variables would point the child build at the wrong SDK pieces.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PublishTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish of DigitPad did not finish in {PublishTimeout.TotalMinutes} minutes.");
        }

        if (process.ExitCode != 0 || !File.Exists(Path.Combine(SiteRoot, "index.html")))
        {
            throw new InvalidOperationException($"dotnet publish of DigitPad failed (exit code {process.ExitCode}):\n{await stdout}{await stderr}");
        }
    }

    public async Task DisposeAsync()
    {
        Measurements.Write(Path.Combine(OutputDirectory, "measurements.json"), TrainTime, PublishTime);
        if (Browser is not null)
        {
            try
            {
                await Browser.CloseAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException)
            {
                // Closing failed to finish: end the process instead, so that nothing outlives the tests.
                Browser.Process?.Kill(entireProcessTree: true);
            }

            Browser.Dispose();
        }

        if (Site is not null) await Site.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder does not make a test wrong.
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace ModelGen.Browser.Tests;

/// <summary>
/// DigitPad end to end in a real headless Chromium: the published page, served by a plain static file server, loads the
/// trained LeNet5 and recognises digits drawn on its canvas, with the probabilities the same network computes here.
/// </summary>
public sealed partial class DigitPadTests(DigitPadFixture fixture, ITestOutputHelper output) : IClassFixture<DigitPadFixture>
{
    private const int TestTimeout = 240_000;

    /// <summary>Browser and .NET on this machine run the same float arithmetic in another order (128- vs 512-bit SIMD).</summary>
    private const float SameNetworkTolerance = 1e-4f;

    /// <summary>The page in a fresh incognito context (an empty cache, so every open is a first load), closed with it.</summary>
    private sealed class OpenPage(IBrowserContext context, PadPage pad, TimeSpan load) : IAsyncDisposable
    {
        public PadPage Pad => pad;

        /// <summary>From navigation until the page could draw with its model loaded, as this test saw it.</summary>
        public TimeSpan Load => load;

        public async ValueTask DisposeAsync() => await context.CloseAsync();
    }

    private async Task<OpenPage> OpenAsync()
    {
        var context = await fixture.Browser.CreateBrowserContextAsync();
        var page = await context.NewPageAsync();
        page.DefaultTimeout = (int)PadPage.Wait.TotalMilliseconds;
        var errors = new List<string>();
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) errors.Add(e.Message.Text); };
        var pad = new PadPage(page);
        var clock = Stopwatch.StartNew();
        var state = await pad.OpenAsync(fixture.Site.Address);
        var load = clock.Elapsed;
        Assert.True(state == "ready", $"model state '{state}': {await pad.ModelStatusAsync()}; console errors: {string.Join(" | ", errors)}");
        return new OpenPage(context, pad, load);
    }

    private void AssertIsAPrediction(PadResult result, string what)
    {
        Assert.NotNull(result.Digit);
        var sum = result.Probabilities.Sum(p => (double)p);
        Assert.True(Math.Abs(sum - 1) < 1e-5, $"{what}: the probabilities sum to {sum}");
        Assert.Equal(ArgMax(result.Probabilities), result.Digit);
        Assert.All(new[] { result.NetworkMs, result.FrameMs, result.ReadMs }, t => Assert.True(t >= 0));

        // Independent of the page's code path: this process's LeNet5 (same weights) on the very input the page shows.
        var expected = fixture.Model.Predict(result.Input);
        for (var d = 0; d < expected.Length; d++)
        {
            Assert.True(Math.Abs(expected[d] - result.Probabilities[d]) < SameNetworkTolerance,
                $"{what}: digit {d} has probability {result.Probabilities[d]} in the browser but {expected[d]} in .NET here");
        }
    }

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    [Fact(Timeout = TestTimeout)]
    public async Task DrawnDigits_WithMouseAndTouch_AreRecognised_OnThePageServedAsPlainFiles()
    {
        var before = fixture.Site.Requests.Count;
        await using var open = await OpenAsync();
        var pad = open.Pad;
        fixture.Measurements.FirstLoad(open.Load, await pad.ReadyMsAsync());

        // Everything the page asked for was there, under the sub-path it was served from, with a MIME type a plain server
        // knows, the default model included.
        var requests = fixture.Site.Requests.Skip(before).ToList();
        Assert.Contains(requests, r => r.Path == StaticSite.PathBase + "/model.mgm" && r.Status == 200);
        Assert.All(requests, r => Assert.True(r.Status == 200 && r.Path.StartsWith(StaticSite.PathBase + "/", StringComparison.Ordinal), $"{r.Path} answered {r.Status}"));
        fixture.Measurements.Download(requests.Sum(r => r.Bytes));

        var one = await pad.DrawAsync(Strokes.One);
        AssertIsAPrediction(one, "1 drawn with the mouse");
        Assert.Equal(1, one.Digit);
        Assert.Equal("mouse", one.Pointer);
        fixture.Measurements.Prediction(one);

        var cleared = await pad.ClearAsync();
        Assert.Null(cleared.Digit);
        Assert.All(cleared.Probabilities, p => Assert.Equal(0f, p));
        Assert.All(cleared.Input, v => Assert.Equal(0, v));

        var seven = await pad.DrawAsync(Strokes.Seven);
        AssertIsAPrediction(seven, "7 drawn with the mouse");
        Assert.Equal(7, seven.Digit);
        fixture.Measurements.Prediction(seven);
        var screenshot = Path.Combine(fixture.OutputDirectory, "digitpad.png");
        await pad.Page.ScreenshotAsync(screenshot);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is (nearly) empty");

        await pad.ClearAsync();
        var touched = await pad.DrawAsync(Strokes.One, touch: true);
        AssertIsAPrediction(touched, "1 drawn by touch");
        Assert.Equal(1, touched.Digit);
        Assert.Equal("touch", touched.Pointer);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first load {open.Load.TotalMilliseconds:F0} ms; 1: {one.Probabilities[1]:P2}, 7: {seven.Probabilities[7]:P2}, touched 1: {touched.Probabilities[1]:P2}; screenshot {screenshot}"));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task MnistTestDigits_ReplayedAsPenStrokes_AreRecognised()
    {
        await using var open = await OpenAsync();
        var pad = open.Pad;

        // The first image of each digit in the final-evaluation half of the MNIST test set: independent truth by label.
        var set = fixture.Mnist.FinalEvaluation;
        var chosen = Enumerable.Range(0, 10).Select(digit => Enumerable.Range(0, set.Count).First(i => set.Label(i) == digit)).ToArray();
        var recognised = new List<string>();
        var missed = new List<string>();
        foreach (var index in chosen)
        {
            var label = set.Label(index);
            // Strokes along the image's rows, one move each (the drawn 1 and 7 above move the way a hand does).
            var result = await pad.DrawAsync(Strokes.FromImage(set.Image(index)), handMoves: false);
            AssertIsAPrediction(result, $"MNIST final-evaluation image {index}");
            fixture.Measurements.Prediction(result);

            // The page framed the drawing as MNIST frames its digits (box to 20 pixels, centre of mass in the middle): its
            // 28x28 input looks like the original image, not like a shifted or scaled copy.
            var correlation = Correlation(set.Image(index).ToArray(), result.Input);
            Assert.True(correlation > 0.7, $"image {index} (label {label}): the page's 28x28 input correlates {correlation:F2} with the MNIST image");

            (result.Digit == label ? recognised : missed).Add(string.Create(CultureInfo.InvariantCulture,
                $"{index}: label {label} -> {result.Digit} ({result.Probabilities[result.Digit!.Value]:P1}, input r={correlation:F2})"));
            await pad.ClearAsync();
        }

        output.WriteLine($"recognised {recognised.Count}/10:\n  " + string.Join("\n  ", recognised.Concat(missed.Select(m => "MISSED " + m))));
        // A one-epoch LeNet-5 is ~98% accurate on MNIST; drawn with the pad's brush the digits are a little bolder.
        Assert.True(recognised.Count >= 9, "missed: " + string.Join("; ", missed));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PickedModelFile_NotAModel_IsRefusedAndTheModelKept_ThenAModelFileLoads()
    {
        await using var open = await OpenAsync();
        var pad = open.Pad;

        var notAModel = Path.Combine(fixture.Root, "notes.mgm");
        await File.WriteAllTextAsync(notAModel, "these are not weights");
        await pad.PickModelAsync(notAModel);
        Assert.Equal("error", await pad.ModelStateAsync());
        var status = await pad.ModelStatusAsync();
        Assert.Contains("'notes.mgm' is not a ModelGen model file", status);
        Assert.Contains("The model loaded before is still in use.", status);
        var one = await pad.DrawAsync(Strokes.One);
        Assert.Equal(1, one.Digit);

        var picked = Path.Combine(fixture.Root, "picked-lenet5.mgm");
        File.Copy(fixture.ModelPath, picked);
        await pad.PickModelAsync(picked);
        Assert.Equal("ready", await pad.ModelStateAsync());
        Assert.Contains("picked-lenet5.mgm (picked): LeNet5, 107,786 parameters, 1 epoch(s) of training", await pad.ModelStatusAsync());
        var seven = await pad.DrawAsync(Strokes.Seven);
        AssertIsAPrediction(seven, "7 after picking the model file");
        Assert.Equal(7, seven.Digit);
    }

    [Fact]
    public void PublishedBundle_CarriesTheCpuRuntimeAndNoPlottingNativeGraphicsOrGpuAssembly()
    {
        var assemblies = Directory.GetFiles(Path.Combine(fixture.SiteRoot, "_framework"), "*.wasm")
            .Select(f => FingerprintedName().Replace(Path.GetFileName(f), "$1"))
            .ToList();

        Assert.Contains("ModelGen", assemblies);
        Assert.Contains("DigitPad", assemblies);
        foreach (var banned in new[] { "ScottPlot", "SkiaSharp", "HarfBuzzSharp", "ILGPU", "ModelGen.Gpu", "ModelGen.Plotting" })
        {
            Assert.DoesNotContain(assemblies, a => a.StartsWith(banned, StringComparison.Ordinal));
        }

        fixture.Measurements.Bundle(fixture.SiteRoot);
        output.WriteLine($"{assemblies.Count} assemblies: {string.Join(", ", assemblies.Order())}");
    }

    /// <summary>"Name.fingerprint.wasm" -> "Name".</summary>
    [GeneratedRegex(@"^(.+?)\.[a-z0-9]{8,12}\.wasm$")]
    private static partial Regex FingerprintedName();

    private static double Correlation(byte[] a, byte[] b)
    {
        double ma = a.Average(v => (double)v), mb = b.Average(v => (double)v), sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return sab / Math.Sqrt(saa * sbb);
    }
}

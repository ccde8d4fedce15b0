using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace ModelGen.Browser.Tests;

/// <summary>
/// What the browser tests measure, for docs/browser.md: the published bundle, the first load and each prediction's time
/// as the page itself reports it. Written to digitpad/measurements.json beside the test assembly; never asserted on.
/// </summary>
public sealed class Measurements
{
    private readonly ConcurrentQueue<(double TestMs, double PageMs)> _loads = new();
    private readonly ConcurrentQueue<(double Network, double Frame, double Read)> _predictions = new();
    private long _downloadBytes;
    private double _nativeMicroseconds = double.NaN;
    private (long Files, long Bytes, long BrotliBytes, long Assemblies, long ModelBytes)? _bundle;

    public void FirstLoad(TimeSpan seenByTest, double pageMs) => _loads.Enqueue((seenByTest.TotalMilliseconds, pageMs));

    public void Prediction(PadResult result) =>
        _predictions.Enqueue((result.NetworkMs ?? double.NaN, result.FrameMs ?? double.NaN, result.ReadMs ?? double.NaN));

    /// <summary>The same one-image prediction in this process (JIT-compiled, warm): the yardstick for the browser's.</summary>
    public void NativePrediction(LeNet5Sample.LeNet5 model, byte[] image)
    {
        for (var i = 0; i < 200; i++) model.Predict(image);
        var times = new double[500];
        for (var i = 0; i < times.Length; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            model.Predict(image);
            times[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        _nativeMicroseconds = Median(times);
    }

    public void Download(long bytes) => Interlocked.Exchange(ref _downloadBytes, bytes);

    /// <summary>The published folder: every file a server sends as is (the precompressed .br/.gz copies aside), and their Brotli size.</summary>
    public void Bundle(string siteRoot)
    {
        var files = Directory.GetFiles(siteRoot, "*", SearchOption.AllDirectories);
        var plain = files.Where(f => !f.EndsWith(".br", StringComparison.Ordinal) && !f.EndsWith(".gz", StringComparison.Ordinal)).ToList();
        var brotli = plain.Sum(f => File.Exists(f + ".br") ? new FileInfo(f + ".br").Length : new FileInfo(f).Length);
        var model = new FileInfo(Path.Combine(siteRoot, "model.mgm"));
        _bundle = (plain.Count, plain.Sum(f => new FileInfo(f).Length), brotli, plain.Count(f => f.EndsWith(".wasm", StringComparison.Ordinal)),
            model.Exists ? model.Length : 0);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public void Write(string path, TimeSpan train, TimeSpan publish)
    {
        var predictions = _predictions.ToArray();
        var report = new Dictionary<string, object?>
        {
            ["trainSeconds"] = Math.Round(train.TotalSeconds, 1),
            ["publishSeconds"] = Math.Round(publish.TotalSeconds, 1),
            ["bundleFiles"] = _bundle?.Files,
            ["bundleAssemblies"] = _bundle?.Assemblies,
            ["bundleBytes"] = _bundle?.Bytes,
            ["bundleBrotliBytes"] = _bundle?.BrotliBytes,
            ["modelBytes"] = _bundle?.ModelBytes,
            ["firstLoadDownloadBytes"] = Interlocked.Read(ref _downloadBytes),
            ["firstLoadMs"] = _loads.Select(l => Math.Round(l.TestMs)).ToArray(),
            ["firstLoadPageMs"] = _loads.Select(l => Math.Round(l.PageMs)).ToArray(),
            ["predictions"] = predictions.Length,
            ["networkMsMedian"] = Round(Median(predictions.Select(p => p.Network))),
            ["networkMsMax"] = Round(predictions.Select(p => p.Network).DefaultIfEmpty(double.NaN).Max()),
            ["framingMsMedian"] = Round(Median(predictions.Select(p => p.Frame))),
            ["canvasReadMsMedian"] = Round(Median(predictions.Select(p => p.Read))),
            ["nativeNetworkMicrosecondsMedian"] = Round(_nativeMicroseconds),
            ["processorCount"] = Environment.ProcessorCount,
            ["measuredAt"] = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static double? Round(double value) => double.IsFinite(value) ? Math.Round(value, 2) : null;
}

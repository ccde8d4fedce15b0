using System.Globalization;
using System.Text.Json;
using PuppeteerSharp;
using PuppeteerSharp.Input;

namespace ModelGen.Browser.Tests;

/// <summary>What the page shows after a drawing: the digit, the ten bars' probabilities, the timings and the 28x28 input.</summary>
public sealed record PadResult(int? Digit, float[] Probabilities, double? NetworkMs, double? FrameMs, double? ReadMs, byte[] Input, string Pointer);

/// <summary>
/// Drives DigitPad in a Chromium page as a person would: pointer strokes on the canvas (mouse or touch), the Clear
/// button, the model file picker. Every wait is bounded.
/// </summary>
internal sealed class PadPage(IPage page)
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private BoundingBox? _pad;

    // Edits (finished strokes and clears) made so far; the page stamps its result with the count it includes.
    private int _edits;

    public IPage Page => page;

    /// <summary>Opens the page and waits until it can draw and its model is settled; returns the model state.</summary>
    public async Task<string> OpenAsync(Uri address)
    {
        await page.GoToAsync(address.ToString(), new NavigationOptions { Timeout = (int)Wait.TotalMilliseconds });
        await page.WaitForFunctionAsync(
            "() => { const r = document.getElementById('result'); return r && r.dataset.model !== 'loading' && r.dataset.readyMs; }",
            new WaitForFunctionOptions { Timeout = (int)Wait.TotalMilliseconds, PollingInterval = 50 });
        _pad = await (await page.QuerySelectorAsync("#pad")).BoundingBoxAsync();
        return await Attribute("#result", "model");
    }

    /// <summary>Milliseconds from the start of navigation until the page was ready, as the page measured it (performance.now()).</summary>
    public async Task<double> ReadyMsAsync() => double.Parse(await Attribute("#result", "readyMs"), CultureInfo.InvariantCulture);

    public async Task<string> ModelStatusAsync() => await page.EvaluateFunctionAsync<string>("() => document.getElementById('model-status').textContent");

    public async Task<string> ModelStateAsync() => await Attribute("#model-status", "state");

    /// <summary>
    /// Draws each stroke (points in the pad's 280x280 pixels) with the mouse or by touch, then waits for the page's
    /// prediction of it all. With <paramref name="handMoves"/> the pointer also passes through points every 16 pixels in
    /// between, as a hand's moves arrive; without it each segment is one move (the page draws the same straight line, and
    /// every move costs a prediction under the WebAssembly interpreter).
    /// </summary>
    public async Task<PadResult> DrawAsync(IEnumerable<IReadOnlyList<(double X, double Y)>> strokes, bool touch = false, bool handMoves = true)
    {
        foreach (var stroke in strokes)
        {
            if (touch) await TouchStrokeAsync(stroke, handMoves);
            else await MouseStrokeAsync(stroke, handMoves);
            _edits++;
        }

        return await ResultAsync();
    }

    public async Task<PadResult> ClearAsync()
    {
        await page.ClickAsync("#clear");
        _edits++;
        return await ResultAsync();
    }

    /// <summary>Picks <paramref name="path"/> in the model file input and waits until the status names it.</summary>
    public async Task PickModelAsync(string path)
    {
        var input = await page.QuerySelectorAsync("#model-file input, input#model-file");
        await input.UploadFileAsync(path);
        await page.WaitForFunctionAsync(
            "name => document.getElementById('model-status').textContent.includes(name)",
            new WaitForFunctionOptions { Timeout = (int)Wait.TotalMilliseconds, PollingInterval = 50 },
            Path.GetFileName(path));
    }

    private async Task MouseStrokeAsync(IReadOnlyList<(double X, double Y)> stroke, bool handMoves)
    {
        var (x, y) = OnPage(stroke[0]);
        await page.Mouse.MoveAsync(x, y);
        await page.Mouse.DownAsync();
        for (var i = 1; i < stroke.Count; i++)
        {
            var (nx, ny) = OnPage(stroke[i]);
            var steps = handMoves ? Steps(stroke[i - 1], stroke[i]) : 1;
            await page.Mouse.MoveAsync(nx, ny, new MoveOptions { Steps = steps });
        }

        await page.Mouse.UpAsync();
    }

    private async Task TouchStrokeAsync(IReadOnlyList<(double X, double Y)> stroke, bool handMoves)
    {
        var (x, y) = OnPage(stroke[0]);
        await page.Touchscreen.TouchStartAsync(x, y);
        for (var i = 1; i < stroke.Count; i++)
        {
            var steps = handMoves ? Steps(stroke[i - 1], stroke[i]) : 1;
            for (var s = 1; s <= steps; s++)
            {
                var t = (double)s / steps;
                var (px, py) = OnPage((stroke[i - 1].X + t * (stroke[i].X - stroke[i - 1].X), stroke[i - 1].Y + t * (stroke[i].Y - stroke[i - 1].Y)));
                await page.Touchscreen.TouchMoveAsync(px, py);
            }
        }

        await page.Touchscreen.TouchEndAsync();
    }

    /// <summary>Moves in between, one every 16 pixels: a hand gives more, but the page joins them with lines either way.</summary>
    private static int Steps((double X, double Y) a, (double X, double Y) b) => Math.Max(1, (int)(Distance(a, b) / 16));

    private static double Distance((double X, double Y) a, (double X, double Y) b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));

    private (decimal X, decimal Y) OnPage((double X, double Y) point)
    {
        var pad = _pad ?? throw new InvalidOperationException("Open the page first.");
        // The canvas has a 2-pixel border; its 280 drawing pixels start inside it.
        return (pad.X + 2 + (decimal)point.X, pad.Y + 2 + (decimal)point.Y);
    }

    /// <summary>Waits until the page's result includes every edit made, then reads it.</summary>
    private async Task<PadResult> ResultAsync()
    {
        await page.WaitForFunctionAsync(
            "n => Number(document.getElementById('result').dataset.edits) === n",
            new WaitForFunctionOptions { Timeout = (int)Wait.TotalMilliseconds, PollingInterval = 20 },
            _edits);
        var json = await page.EvaluateFunctionAsync<JsonElement>(
            """
            () => {
                const r = document.getElementById('result').dataset;
                const input = document.getElementById('input').getContext('2d').getImageData(0, 0, 28, 28).data;
                return {
                    digit: document.getElementById('digit').textContent,
                    probabilities: [...document.querySelectorAll('#bars li')].map(li => li.dataset.probability),
                    network: r.networkMs ?? null, frame: r.frameMs ?? null, read: r.readMs ?? null, pointer: r.pointer ?? '',
                    input: Array.from(input.filter((_, i) => i % 4 === 0)),
                };
            }
            """);
        var digit = json.GetProperty("digit").GetString();
        return new PadResult(
            int.TryParse(digit, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : null,
            [.. json.GetProperty("probabilities").EnumerateArray().Select(p => float.Parse(p.GetString()!, CultureInfo.InvariantCulture))],
            Number(json.GetProperty("network")),
            Number(json.GetProperty("frame")),
            Number(json.GetProperty("read")),
            [.. json.GetProperty("input").EnumerateArray().Select(v => v.GetByte())],
            json.GetProperty("pointer").GetString()!);
    }

    private static double? Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? double.Parse(value.GetString()!, CultureInfo.InvariantCulture) : null;

    private async Task<string> Attribute(string selector, string name) =>
        await page.EvaluateFunctionAsync<string>("(s, n) => document.querySelector(s).dataset[n] ?? ''", selector, name);
}

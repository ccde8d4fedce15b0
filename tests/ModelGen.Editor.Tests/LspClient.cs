using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ModelGen.Editor.Tests;

/// <summary>
/// A minimal Language Server Protocol client over a server's stdin/stdout (JSON-RPC with Content-Length framing), as
/// an editor runs one. It answers the server's <c>workspace/configuration</c> requests with the given settings, keeps
/// every notification it receives, and lets a test wait, with a deadline, for a notification that matches.
/// </summary>
internal sealed class LspClient : IDisposable
{
    private readonly Process _server;
    private readonly JsonObject _settings;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly List<JsonObject> _notifications = [];
    private readonly object _gate = new();
    private readonly StringBuilder _serverLog = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _reader;
    private int _nextId;

    public LspClient(ProcessStartInfo server, JsonObject settings)
    {
        server.RedirectStandardInput = true;
        server.RedirectStandardOutput = true;
        server.RedirectStandardError = true;
        server.UseShellExecute = false;
        _settings = settings;
        _server = Process.Start(server) ?? throw new InvalidOperationException($"could not start {server.FileName}");
        _server.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_serverLog)
            {
                // Keep the tail only: enough to explain a failure.
                if (_serverLog.Length > 64_000) _serverLog.Remove(0, 32_000);
                _serverLog.AppendLine(e.Data);
            }
        };
        _server.BeginErrorReadLine();
        _reader = Task.Run(ReadLoop);
    }

    /// <summary>The end of what the server wrote to stderr (its log), for failure messages.</summary>
    public string ServerLog
    {
        get { lock (_serverLog) return _serverLog.ToString(); }
    }

    public async Task<JsonNode?> RequestAsync(string method, JsonObject? parameters, TimeSpan timeout, string waitingFor)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters });
        var finished = await Task.WhenAny(reply.Task, Task.Delay(timeout));
        if (finished != reply.Task) throw Timeout(timeout, waitingFor);
        return await reply.Task;
    }

    public Task NotifyAsync(string method, JsonObject parameters) =>
        SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = parameters });

    /// <summary>The number of notifications received so far: pass it to <see cref="WaitForNotificationAsync"/> to see only later ones.</summary>
    public int NotificationCount
    {
        get { lock (_gate) return _notifications.Count; }
    }

    /// <summary>
    /// Waits until a notification <paramref name="method"/> received after the first <paramref name="after"/> ones
    /// satisfies <paramref name="match"/>; fails after <paramref name="timeout"/> saying what it waited for.
    /// </summary>
    public async Task<JsonObject> WaitForNotificationAsync(string method, int after, Func<JsonObject, bool> match, TimeSpan timeout, string waitingFor)
    {
        var deadline = Stopwatch.StartNew();
        var seen = after;
        while (true)
        {
            lock (_gate)
            {
                for (; seen < _notifications.Count; seen++)
                {
                    var notification = _notifications[seen];
                    if ((string?)notification["method"] == method && match((JsonObject)notification["params"]!)) return (JsonObject)notification["params"]!;
                }
            }

            if (_reader.IsCompleted) throw new InvalidOperationException($"the language server exited while waiting for {waitingFor}.\n{ServerLog}");
            if (deadline.Elapsed > timeout) throw Timeout(timeout, waitingFor);
            await Task.Delay(50);
        }
    }

    /// <summary>Every notification <paramref name="method"/> so far, oldest first (for failure messages).</summary>
    public IReadOnlyList<JsonObject> Notifications(string method)
    {
        lock (_gate) return _notifications.Where(n => (string?)n["method"] == method).Select(n => (JsonObject)n["params"]!).ToList();
    }

    private TimeoutException Timeout(TimeSpan timeout, string waitingFor) =>
        new($"Waited {timeout.TotalSeconds:0} s for {waitingFor}, in vain.\nDiagnostics published so far:\n"
            + string.Join("\n", Notifications("textDocument/publishDiagnostics").Select(n => n.ToJsonString()))
            + "\nLanguage server log (end):\n" + ServerLog);

    private async Task SendAsync(JsonObject message)
    {
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        await _writeLock.WaitAsync();
        try
        {
            var stdin = _server.StandardInput.BaseStream;
            await stdin.WriteAsync(header);
            await stdin.WriteAsync(body);
            await stdin.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoop()
    {
        var stdout = _server.StandardOutput.BaseStream;
        while (await ReadMessage(stdout) is { } message)
        {
            if (message["method"] is JsonValue method)
            {
                if (message["id"] is { } id) await AnswerServerRequest(id, (string)method!, message["params"]);
                else lock (_gate) _notifications.Add(message);
            }
            else if (message["id"] is JsonValue replyId && _pending.TryRemove((int)replyId, out var reply))
            {
                if (message["error"] is { } error) reply.SetException(new InvalidOperationException("server error: " + error.ToJsonString()));
                else reply.SetResult(message["result"]);
            }
        }
    }

    /// <summary>Settings for <c>workspace/configuration</c>; every other server request (registrations, progress) gets null.</summary>
    private Task AnswerServerRequest(JsonNode id, string method, JsonNode? parameters)
    {
        JsonNode? result = null;
        if (method == "workspace/configuration")
        {
            var items = parameters?["items"]?.AsArray() ?? [];
            result = new JsonArray(items.Select(item => (string?)item?["section"] is { } section && _settings[section] is { } value ? value.DeepClone() : null).ToArray());
        }

        return SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(), ["result"] = result });
    }

    private static async Task<JsonObject?> ReadMessage(Stream stream)
    {
        var length = -1;
        while (true)
        {
            var line = await ReadHeaderLine(stream);
            if (line is null) return null;
            if (line.Length == 0) break;
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line["Content-Length:".Length..].Trim());
        }

        if (length < 0) throw new InvalidDataException("an LSP message without Content-Length");
        var body = new byte[length];
        await stream.ReadExactlyAsync(body);
        return JsonNode.Parse(body)!.AsObject();
    }

    private static async Task<string?> ReadHeaderLine(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0) return null;
            if (one[0] == '\n') return Encoding.ASCII.GetString(bytes.ToArray()).TrimEnd('\r');
            bytes.Add(one[0]);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_server.HasExited) _server.Kill(entireProcessTree: true);
            _server.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _server.Dispose();
        _writeLock.Dispose();
    }
}

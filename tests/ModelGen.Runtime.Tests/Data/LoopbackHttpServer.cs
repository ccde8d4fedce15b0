using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ModelGen.Runtime.Tests.Data;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (random port) serving fixed bodies by path; anything else is 404.
/// One request per connection, at most <see cref="MaxRequests"/> requests, so a runaway client cannot hang a test.
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    public const int MaxRequests = 64;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IReadOnlyDictionary<string, byte[]> _routes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackHttpServer(IReadOnlyDictionary<string, byte[]> routes)
    {
        _routes = routes;
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/mnist/";
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The base URL; routes are paths below it (e.g. "train-images-idx3-ubyte.gz").</summary>
    public string BaseUrl { get; }

    /// <summary>Paths requested so far (relative to <see cref="BaseUrl"/>).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task ServeAsync()
    {
        for (var served = 0; served < MaxRequests; served++)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            using (client)
            {
                try
                {
                    await HandleAsync(client.GetStream());
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
                {
                    // The client went away; serve the next one.
                }
            }
        }
    }

    private async Task HandleAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[1];
        while (head.Length < 8192 && !head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(buffer, _stop.Token) == 0) return;
            head.Append((char)buffer[0]);
        }
        var target = head.ToString().Split(' ')[1];
        var prefix = new Uri(BaseUrl).AbsolutePath;
        var path = target.StartsWith(prefix, StringComparison.Ordinal) ? target[prefix.Length..] : target;
        Requests.Enqueue(path);
        var found = _routes.TryGetValue(path, out var body);
        body ??= Encoding.ASCII.GetBytes("not found");
        var status = found ? "200 OK" : "404 Not Found";
        var header = $"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(header), _stop.Token);
        await stream.WriteAsync(body, _stop.Token);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stop.Dispose();
    }
}

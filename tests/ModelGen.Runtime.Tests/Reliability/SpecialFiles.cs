using System.Diagnostics;
using System.IO.Pipes;

namespace ModelGen.Runtime.Tests.Reliability;

/// <summary>FIFOs, pipes and devices for the tests, and a guard that turns a hang into a failure.</summary>
internal static class SpecialFiles
{
    /// <summary>Creates a FIFO (named pipe) at <paramref name="path"/> with mkfifo.</summary>
    public static string MakeFifo(string path)
    {
        var start = new ProcessStartInfo("mkfifo") { RedirectStandardError = true };
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "mkfifo failed: " + process.StandardError.ReadToEnd());
        return path;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on another thread and returns what it returned or rethrows what it threw. When it
    /// has not finished after <paramref name="seconds"/>, the test fails; a reader stuck on <paramref name="fifo"/> is then
    /// released by opening the FIFO for writing, so a regression fails instead of hanging the test run.
    /// </summary>
    public static T Finishes<T>(Func<T> action, string? fifo = null, int seconds = 30)
    {
        var task = Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(TimeSpan.FromSeconds(seconds)) && !task.IsCompleted)
        {
            if (fifo is not null)
            {
                // Opening the write end lets the blocked open for reading return; closing it gives the reader end of file.
                var release = new Thread(() =>
                {
                    try { using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write); }
                    catch (IOException) { }
                }) { IsBackground = true };
                release.Start();
            }

            Assert.Fail($"still running after {seconds} s: it blocks on {(fifo is null ? "its input" : fifo)}");
        }

        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs <paramref name="action"/> as <see cref="Finishes{T}"/> does and returns the exception it threw (or null).</summary>
    public static Exception? Throws(Action action, string? fifo = null, int seconds = 30) =>
        Finishes<Exception?>(() =>
        {
            try
            {
                action();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }, fifo, seconds);

    /// <summary>An anonymous pipe holding <paramref name="content"/> (then closed), readable at the returned /proc/self/fd path.</summary>
    public static (string Path, IDisposable Pipe) Pipe(byte[] content)
    {
        var server = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
        var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        var writer = Task.Run(() =>
        {
            try { server.Write(content); }
            catch (IOException) { }
            finally { server.Dispose(); }
        });
        return ($"/proc/self/fd/{client.SafePipeHandle.DangerousGetHandle()}", new Both(client, writer));
    }

    private sealed class Both(Stream client, Task writer) : IDisposable
    {
        public void Dispose()
        {
            client.Dispose();
            writer.Wait(TimeSpan.FromSeconds(10));
        }
    }
}

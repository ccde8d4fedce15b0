using System.Runtime.ExceptionServices;

namespace ModelGen.Cpu;

/// <summary>
/// A fixed set of threads that run numbered work items, the calling thread included. Unlike Parallel.For it allocates
/// nothing per call, which keeps the training loop allocation-free in the steady state. Results must not depend on
/// which thread runs an item (callers give each item its own output buffer).
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _start = new(0);
    private readonly CountdownEvent _done = new(1);
    private Action<int, int>? _job;
    private int _items;
    private int _next;
    private volatile bool _stopping;
    private Exception? _error;

    public WorkerPool(int workers)
    {
        WorkerCount = Math.Max(1, workers);
        _threads = new Thread[WorkerCount - 1];
        for (var t = 0; t < _threads.Length; t++)
        {
            var worker = t + 1;
            _threads[t] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"ModelGen worker {worker}" };
            _threads[t].Start();
        }
    }

    /// <summary>Threads that run items, the caller's included.</summary>
    public int WorkerCount { get; }

    /// <summary>Runs <paramref name="job"/>(item, worker) for item = 0..items-1 and returns when all are done.</summary>
    public void Run(int items, Action<int, int> job)
    {
        if (WorkerCount == 1 || items <= 1)
        {
            for (var i = 0; i < items; i++) job(i, 0);
            return;
        }

        _job = job;
        _items = items;
        _next = -1;
        _error = null;
        _done.Reset(_threads.Length);
        _start.Release(_threads.Length);
        Work(0);
        _done.Wait();
        _job = null;
        if (_error is { } error) ExceptionDispatchInfo.Capture(error).Throw();
    }

    private void Loop(int worker)
    {
        while (true)
        {
            _start.Wait();
            if (_stopping) return;
            Work(worker);
            _done.Signal();
        }
    }

    private void Work(int worker)
    {
        var job = _job!;
        int item;
        while ((item = Interlocked.Increment(ref _next)) < _items)
        {
            try
            {
                job(item, worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_threads.Length > 0) _start.Release(_threads.Length);
        foreach (var thread in _threads) thread.Join();
        _start.Dispose();
        _done.Dispose();
    }
}

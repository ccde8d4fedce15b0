using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace ModelGen.Cpu;

/// <summary>One parallel loop body: <see cref="Execute"/> runs work item <c>item</c> (in any order, on any thread).</summary>
internal interface IParallelJob
{
    void Execute(int item);
}

/// <summary>
/// A fixed set of threads that run the numbered work items of one job, the calling thread included, and return when all
/// are done. Built for the many short parallel loops of a training step (one per layer and direction): it allocates
/// nothing per call, idle workers spin for a few tens of microseconds before they sleep, so back-to-back loops cost about
/// a microsecond each, and a job is a struct on the caller's stack. Results must not depend on which thread runs an
/// item (callers give each item its own outputs).
/// </summary>
internal sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>Spins before an idle worker sleeps: long enough to bridge the gap between the loops of one step.</summary>
    private const int SpinsBeforeSleep = 4000;

    /// <summary>The most threads a pool may have; more than this is a usage error, not a speed-up.</summary>
    public const int MaxWorkers = 256;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _wake = new(0);
    private int _sleepers;

    // The job in flight. Workers read these after they see a new generation, and enter only while _open is set.
    private void* _job;
    private delegate*<void*, int, void> _execute;
    private int _items;
    private int _next;
    private volatile bool _open;
    private volatile int _generation;
    private int _entered;
    private int _exited;
    private volatile bool _stopping;
    private Exception? _error;

    public WorkerPool(int workers)
    {
        if (workers is < 1 or > MaxWorkers)
        {
            throw new ArgumentOutOfRangeException(nameof(workers), workers, $"A worker pool has 1 to {MaxWorkers} threads.");
        }

        WorkerCount = workers;
        _threads = new Thread[workers - 1];
        for (var t = 0; t < _threads.Length; t++)
        {
            _threads[t] = new Thread(Loop) { IsBackground = true, Name = $"ModelGen worker {t + 1}" };
            _threads[t].Start();
        }
    }

    /// <summary>Threads that run items, the caller's included.</summary>
    public int WorkerCount { get; }

    /// <summary>Runs <paramref name="job"/>.Execute(item) for item = 0..items-1 and returns when all are done.</summary>
    /// <remarks><paramref name="job"/> must be a local of the caller (it is read by address from other threads).</remarks>
    public void Run<TJob>(int items, ref TJob job) where TJob : struct, IParallelJob
    {
        if (items <= 0) return;
        if (WorkerCount == 1 || items == 1)
        {
            for (var i = 0; i < items; i++) job.Execute(i);
            return;
        }

        _job = Unsafe.AsPointer(ref job);
        _execute = &Execute<TJob>;
        _items = items;
        _next = -1;
        _error = null;
        _open = true;
        _generation++;
        var sleepers = Interlocked.Exchange(ref _sleepers, 0);
        if (sleepers > 0) _wake.Release(sleepers);

        Work();

        // Close the job, then wait for every worker that entered it to leave: after that none reads the caller's stack.
        _open = false;
        var spin = new SpinWait();
        while (Volatile.Read(ref _entered) != Volatile.Read(ref _exited)) spin.SpinOnce(sleep1Threshold: -1);
        _job = null;
        if (_error is { } error) ExceptionDispatchInfo.Capture(error).Throw();
    }

    private static void Execute<TJob>(void* job, int item) where TJob : struct, IParallelJob =>
        Unsafe.AsRef<TJob>(job).Execute(item);

    private void Loop()
    {
        var seen = 0;
        while (true)
        {
            WaitForGeneration(seen);
            if (_stopping) return;
            seen = _generation;

            Interlocked.Increment(ref _entered);
            if (_open && _generation == seen) Work();
            Interlocked.Increment(ref _exited);
        }
    }

    private void WaitForGeneration(int seen)
    {
        var spin = new SpinWait();
        for (var i = 0; i < SpinsBeforeSleep; i++)
        {
            if (_generation != seen || _stopping) return;
            spin.SpinOnce(sleep1Threshold: -1);
        }

        while (_generation == seen && !_stopping)
        {
            Interlocked.Increment(ref _sleepers);
            if (_generation != seen || _stopping)
            {
                // Withdraw the registration, unless a Run already counted it (then its release is ours to take).
                int s;
                do
                {
                    s = Volatile.Read(ref _sleepers);
                    if (s == 0)
                    {
                        _wake.Wait();
                        return;
                    }
                }
                while (Interlocked.CompareExchange(ref _sleepers, s - 1, s) != s);
                return;
            }

            _wake.Wait();
        }
    }

    private void Work()
    {
        var job = _job;
        var execute = _execute;
        int item;
        while ((item = Interlocked.Increment(ref _next)) < _items)
        {
            try
            {
                execute(job, item);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _generation++;
        _wake.Release(_threads.Length);
        foreach (var thread in _threads) thread.Join();
        _wake.Dispose();
    }
}

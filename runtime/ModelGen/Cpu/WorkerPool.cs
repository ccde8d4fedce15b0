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
/// nothing per call, idle workers spin for a while before they sleep, so back-to-back loops cost about a microsecond
/// each, and a job is a struct on the caller's stack. Results must not depend on which thread runs an item (callers give
/// each item its own outputs).
/// </summary>
/// <remarks>
/// The items are cut into <see cref="ChunksPerThread"/> contiguous chunks per thread, and thread t first runs the chunks
/// of its own share, items [t·n/T, (t+1)·n/T): consecutive layers split a batch the same way, so a thread goes on with the
/// samples whose activations are already in its caches instead of fetching them from the other core's. A thread that
/// finishes its share takes the chunks still unclaimed, so a late or slow thread costs little.
/// </remarks>
internal sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>Chunks per thread: enough for the others to take over a slow thread's rest, few enough that claims are rare.</summary>
    private const int ChunksPerThread = 4;

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
    private volatile bool _open;
    private volatile bool _stopping;
    private Exception? _error;

    // Each counter on a cache line of its own: idle workers spin reading the generation and the caller the entered and
    // exited counts while the busy ones take items, and sharing a line would make every take slow down all of them.
    private readonly int[] _claimed;
    private CacheLine _generation;
    private CacheLine _entered;
    private CacheLine _exited;

    public WorkerPool(int workers)
    {
        if (workers is < 1 or > MaxWorkers)
        {
            throw new ArgumentOutOfRangeException(nameof(workers), workers, $"A worker pool has 1 to {MaxWorkers} threads.");
        }

        WorkerCount = workers;
        // Claim flags 16 ints (64 bytes) apart, so that claiming one chunk does not disturb the line of another.
        _claimed = new int[workers * ChunksPerThread * 16];
        _threads = new Thread[workers - 1];
        for (var t = 0; t < _threads.Length; t++)
        {
            var participant = t + 1;
            _threads[t] = new Thread(() => Loop(participant)) { IsBackground = true, Name = $"ModelGen worker {participant}" };
            _threads[t].Start();
        }
    }

    /// <summary>
    /// Whether this process can start threads. Browser WebAssembly (Blazor) and WASI run .NET on one thread, where
    /// <see cref="Thread.Start()"/> throws <see cref="PlatformNotSupportedException"/>: there every loop runs on the caller.
    /// </summary>
    public static bool CanStartThreads { get; } = !OperatingSystem.IsBrowser() && !OperatingSystem.IsWasi();

    /// <summary>The threads to run with when <paramref name="requested"/> are asked for: one where threads cannot start.</summary>
    public static int Usable(int requested, bool canStartThreads) => canStartThreads ? requested : 1;

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
        Array.Clear(_claimed);
        _error = null;
        _open = true;
        Volatile.Write(ref _generation.Value, _generation.Value + 1);
        var sleepers = Interlocked.Exchange(ref _sleepers, 0);
        if (sleepers > 0) _wake.Release(sleepers);

        Work(participant: 0);

        // Close the job, then wait for every worker that entered it to leave: after that none reads the caller's stack.
        _open = false;
        // A full fence: the counts below must be read after the closing is seen by every worker. (A worker counts itself in
        // and then reads _open; without the fence the two loads could pass the two stores and both sides would miss each other.)
        Interlocked.MemoryBarrier();
        var spin = new SpinWait();
        while (Volatile.Read(ref _entered.Value) != Volatile.Read(ref _exited.Value)) spin.SpinOnce(sleep1Threshold: -1);
        _job = null;
        if (_error is { } error) ExceptionDispatchInfo.Capture(error).Throw();
    }

    private int Generation => Volatile.Read(ref _generation.Value);

    private static void Execute<TJob>(void* job, int item) where TJob : struct, IParallelJob =>
        Unsafe.AsRef<TJob>(job).Execute(item);

    private void Loop(int participant)
    {
        var seen = 0;
        while (true)
        {
            WaitForGeneration(seen);
            if (_stopping) return;
            seen = Generation;

            Interlocked.Increment(ref _entered.Value);
            if (_open && Generation == seen) Work(participant);
            Interlocked.Increment(ref _exited.Value);
        }
    }

    private void WaitForGeneration(int seen)
    {
        var spin = new SpinWait();
        for (var i = 0; i < SpinsBeforeSleep; i++)
        {
            if (Generation != seen || _stopping) return;
            spin.SpinOnce(sleep1Threshold: -1);
        }

        while (Generation == seen && !_stopping)
        {
            Interlocked.Increment(ref _sleepers);
            if (Generation != seen || _stopping)
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

    private void Work(int participant)
    {
        var job = _job;
        var execute = _execute;
        var items = _items;
        var chunks = WorkerCount * ChunksPerThread;
        // Own share first, then everyone else's in order.
        for (var k = 0; k < chunks; k++)
        {
            var chunk = (participant * ChunksPerThread + k) % chunks;
            if (Interlocked.Exchange(ref _claimed[chunk * 16], 1) != 0) continue;
            var first = (int)((long)items * chunk / chunks);
            var end = (int)((long)items * (chunk + 1) / chunks);
            try
            {
                for (var item = first; item < end; item++) execute(job, item);
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
        Volatile.Write(ref _generation.Value, _generation.Value + 1);
        _wake.Release(_threads.Length);
        foreach (var thread in _threads) thread.Join();
        _wake.Dispose();
    }

    /// <summary>An int alone on a 128-byte line (two 64-byte lines: adjacent-line prefetchers fetch pairs).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
    private struct CacheLine
    {
        [System.Runtime.InteropServices.FieldOffset(64)]
        public int Value;
    }
}

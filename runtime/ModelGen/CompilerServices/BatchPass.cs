using System.ComponentModel;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>
/// One forward or backward pass over a batch, as the runtime hands it to generated code (for generated code only): how
/// many samples, how many the workspace holds, whether the network trains, and the threads the kernels may use.
/// </summary>
/// <remarks>
/// Buffers of a pass are batch-major: sample after sample, each in the layer's channels-last layout. Kernels split their
/// work into items whose results never depend on how many threads run them, so a pass gives the same bits on 1 or 64
/// threads.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct BatchPass
{
    private readonly WorkerPool? _pool;

    internal BatchPass(int count, int capacity, bool training, WorkerPool? pool, ulong dropoutKey = 0)
    {
        if (count < 1 || count > capacity) throw new ArgumentOutOfRangeException(nameof(count), count, $"A pass runs 1 to {capacity} samples.");
        Count = count;
        Capacity = capacity;
        Training = training;
        DropoutKey = dropoutKey;
        _pool = pool;
    }

    /// <summary>Samples in this pass.</summary>
    public int Count { get; }

    /// <summary>Samples the workspace was laid out for; every activation buffer holds this many.</summary>
    public int Capacity { get; }

    /// <summary>
    /// True in training (Fit, ComputeGradients): BatchNormalization normalises with the batch's statistics, Dropout drops
    /// values. False in inference (Predict, Evaluate): BatchNormalization uses its moving statistics, Dropout passes all.
    /// </summary>
    public bool Training { get; }

    /// <summary>The key of a training pass's dropout masks (<see cref="Dropout.PassKey"/> of the seed, epoch and step).</summary>
    internal ulong DropoutKey { get; }

    /// <summary>Threads the kernels run on.</summary>
    internal int Threads => _pool?.WorkerCount ?? 1;

    /// <summary>Runs the items of a kernel's job, in parallel when the pass has threads.</summary>
    internal void Run<TJob>(int items, ref TJob job) where TJob : struct, IParallelJob
    {
        if (_pool is null)
        {
            for (var i = 0; i < items; i++) job.Execute(i);
        }
        else
        {
            _pool.Run(items, ref job);
        }
    }
}

/// <summary>Helpers shared by the kernels.</summary>
internal static class Kernels
{
    /// <summary>Floats per item of an elementwise job: large enough that scheduling costs nothing, small enough to balance.</summary>
    private const long ElementwiseBlock = 16384;

    public static int Blocks(long total) => (int)Math.Max(1, (total + ElementwiseBlock - 1) / ElementwiseBlock);

    public static (long From, long To) Block(int item, long total) =>
        (item * ElementwiseBlock, Math.Min(total, (item + 1) * ElementwiseBlock));

    public static ArgumentException TooShort(string kernel) =>
        new($"A buffer passed to {kernel} is shorter than the layer's shape and the pass's sample count require.");
}

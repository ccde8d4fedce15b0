using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>The constant shape and rate of one Dropout layer (for generated code only).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IDropoutShape
{
    /// <summary>Values per sample.</summary>
    static abstract int Units { get; }

    /// <summary>The layer's position in the model: each Dropout layer draws masks of its own.</summary>
    static abstract int Layer { get; }

    /// <summary>A value is dropped when the top 24 bits of its hash are below this: round(rate · 2^24).</summary>
    static abstract int DropThreshold { get; }

    /// <summary>1 − rate (in float): what kept values are divided by, as Keras computes <c>inputs / keep_prob</c>.</summary>
    static abstract float KeepProbability { get; }
}

/// <summary>
/// Inverted dropout on the CPU (for generated code only): in a training pass each value is kept or dropped by a
/// counter-based hash of (training seed, epoch, step, layer, sample of the batch, unit), so a mask depends on nothing
/// else — not on the threads, the partitioning of the batch or the order the values are visited in — and the backward
/// pass recomputes it instead of storing it. Kept values are divided by 1 − rate, dropped ones are 0.
/// </summary>
/// <remarks>
/// The hash, in full (the GPU kernels call the same functions): <see cref="PassKey"/> = Mix64 over seed, epoch and step
/// (SplitMix64's finalizer after each); <see cref="SampleKey"/> = the high half of Mix64(passKey ⊕ Mix64(layer · 2^32 +
/// sample)); a unit's hash = lowbias32(sampleKey + unit · 0x9E3779B9); the unit is kept when hash ≫ 8 ≥
/// <see cref="IDropoutShape.DropThreshold"/>.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class Dropout
{
    /// <summary>The key of one training step's masks: fixed by the fit's seed, the epoch (1-based) and the step (1-based).</summary>
    public static ulong PassKey(int seed, int epoch, int step)
    {
        var key = Mix64((uint)seed);
        key = Mix64(key ^ (uint)epoch);
        return Mix64(key ^ (uint)step);
    }

    /// <summary>The key of one sample's mask in one layer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint SampleKey(ulong passKey, int layer, int sample) =>
        (uint)(Mix64(passKey ^ Mix64(((ulong)(uint)layer << 32) | (uint)sample)) >> 32);

    /// <summary>True when <paramref name="unit"/> of the sample with <paramref name="sampleKey"/> is kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Keeps(uint sampleKey, int unit, int dropThreshold) => (int)(UnitHash(sampleKey, unit) >> 8) >= dropThreshold;

    /// <summary>lowbias32 (a 32-bit integer hash with a low avalanche bias) of the unit's counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint UnitHash(uint sampleKey, int unit)
    {
        var h = sampleKey + (uint)unit * 0x9E3779B9u;
        h ^= h >> 16;
        h *= 0x7FEB352Du;
        h ^= h >> 15;
        h *= 0x846CA68Bu;
        return h ^ (h >> 16);
    }

    /// <summary>SplitMix64's finalizer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Training: y = x / (1 − rate) where the unit is kept, 0 where it is dropped; x and y [count, Units].</summary>
    public static void TrainingForward<TShape>(in BatchPass pass, ReadOnlySpan<float> x, Span<float> y) where TShape : IDropoutShape =>
        Run<TShape>(pass, x, y, nameof(TrainingForward));

    /// <summary>dx = dy / (1 − rate) where the forward pass kept the unit, 0 elsewhere (the same mask, recomputed).</summary>
    public static void Backward<TShape>(in BatchPass pass, ReadOnlySpan<float> dy, Span<float> dx) where TShape : IDropoutShape =>
        Run<TShape>(pass, dy, dx, nameof(Backward));

    private static void Run<TShape>(in BatchPass pass, ReadOnlySpan<float> from, Span<float> to, string kernel) where TShape : IDropoutShape
    {
        var total = (long)pass.Count * TShape.Units;
        if (from.Length < total || to.Length < total) throw Kernels.TooShort(kernel);
        fixed (float* f = from)
        fixed (float* t = to)
        {
            var job = new MaskJob<TShape> { From = f, To = t, Key = pass.DropoutKey };
            pass.Run(pass.Count, ref job);
        }
    }

    /// <summary>Items: one sample. to = from / keep where the mask keeps the unit, else 0; whole vectors of units, then the rest.</summary>
    private struct MaskJob<TShape> : IParallelJob where TShape : IDropoutShape
    {
        public float* From, To;
        public ulong Key;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int sample)
        {
            int units = TShape.Units, threshold = TShape.DropThreshold;
            var keep = TShape.KeepProbability;
            var key = SampleKey(Key, TShape.Layer, sample);
            var from = From + (long)sample * units;
            var to = To + (long)sample * units;
            var unit = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var lanes = Vector<uint>.Count;
                var counter = Vector<uint>.Indices;
                var step = new Vector<uint>((uint)lanes);
                var keys = new Vector<uint>(key);
                var limit = new Vector<int>(threshold);
                var divisor = new Vector<float>(keep);
                for (; unit + lanes <= units; unit += lanes)
                {
                    // lowbias32(key + unit · golden), lane by lane: the same bits as UnitHash.
                    var h = keys + counter * new Vector<uint>(0x9E3779B9u);
                    h ^= Vector.ShiftRightLogical(h, 16);
                    h *= new Vector<uint>(0x7FEB352Du);
                    h ^= Vector.ShiftRightLogical(h, 15);
                    h *= new Vector<uint>(0x846CA68Bu);
                    h ^= Vector.ShiftRightLogical(h, 16);
                    var kept = Vector.GreaterThanOrEqual(Vector.AsVectorInt32(Vector.ShiftRightLogical(h, 8)), limit);
                    var value = Vector.Load(from + unit) / divisor;
                    Vector.ConditionalSelect(Vector.AsVectorSingle(kept), value, Vector<float>.Zero).Store(to + unit);
                    counter += step;
                }
            }

            for (; unit < units; unit++) to[unit] = Keeps(key, unit, threshold) ? from[unit] / keep : 0f;
        }
    }
}

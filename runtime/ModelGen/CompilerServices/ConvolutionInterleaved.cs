using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

// A convolution that reads one channel and writes few — a grayscale network's first layer, like LeNet-5's 28×28×1 → 6
// — fills only 6 of 16 lanes when vectorised over output channels. Its forward pass runs interleaved instead: an output
// row, stored channels last, is one flat run of (pixel, channel) pairs, and vector v computes pairs v·L … v·L + L − 1.
// The input rows are first expanded the same way, once per kernel column kx (pair p·C + c of expanded row (r, kx) holds
// pixel p + kx of input row r): then the input of every lane for tap (ky, kx) is one aligned load, and the weights of a
// vector's channels are one of Period patterns (the channels over lanes repeat every Period vectors), loaded once per
// tap from a table built per call. Every lane works, and the output is written in place, channels last.
//
// Each output adds the same terms in the same order as on the channel path (bias, then the taps row by row), so the
// result has the same bits; only the forward pass is interleaved (the kernel gradient is a sum over far more terms per
// weight, which the channel path already vectorises well).

public static unsafe partial class Convolution
{
    /// <summary>Most output channels an interleaved layer has (more fill half a 512-bit vector on the channel path).</summary>
    private const int MaxInterleavedChannels = 8;

    /// <summary>Floats of the expanded input rows one item of the interleaved forward pass keeps on its stack (64 KB).</summary>
    private const int ExpandedBandFloats = 16384;

    /// <summary>Most vectors one tile of an interleaved row holds (12 of 16 floats; 8 of narrower vectors).</summary>
    private const int MaxSlots = 12;

    /// <summary>The interleaved geometry of a layer, per vector width.</summary>
    internal static class Interleaving<T> where T : IConvShape
    {
        /// <summary>
        /// True when the layer may run interleaved at some width: one input channel, few filters, stride 1, more than one
        /// output pixel, and expanded rows short enough for a band of them to stay on the stack.
        /// </summary>
        public static bool Candidate
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.InChannels == 1 && T.OutChannels <= MaxInterleavedChannels && T.Stride == 1 && !Geometry<T>.SamplesAsRows
                && T.KernelSize * T.KernelSize * (long)(RowLength + MaxSlots * 16) <= ExpandedBandFloats
                && MaxSlots * 16 + 16 + T.KernelSize <= Slack;
        }

        /// <summary>True when it runs interleaved with vectors of <paramref name="lanes"/> floats: the channel path would leave more than half of them empty.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Applies(int lanes) => Candidate && 2 * T.OutChannels <= lanes;

        /// <summary>Vectors after which the channels over lanes repeat: OutChannels / gcd(OutChannels, lanes), lanes a power of two.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Period(int lanes) => T.OutChannels / Math.Min(T.OutChannels & -T.OutChannels, lanes);

        /// <summary>Floats of one output row: OutWidth (pixel, channel) pairs.</summary>
        public static int RowLength
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.OutWidth * T.OutChannels;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Vectors(int lanes) => (RowLength + lanes - 1) / lanes;

        /// <summary>Vectors of a row one tile computes: a multiple of Period (so each slot keeps one channel pattern), at most MaxSlots (8 narrower).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Slots(int lanes)
        {
            int period = Period(lanes), most = (lanes >= 16 ? MaxSlots : 8) / period * period;
            var tiles = (Vectors(lanes) + most - 1) / most;
            var even = (Vectors(lanes) + tiles - 1) / tiles;
            return Math.Min(most, (even + period - 1) / period * period);
        }

        /// <summary>Floats of one expanded row for one kernel column: every slot of every tile of the row (aligned, no overrun).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Segment(int lanes)
        {
            var slots = Slots(lanes);
            return (Vectors(lanes) + slots - 1) / slots * slots * lanes;
        }

        /// <summary>Output rows one item computes: as many as leave their expanded input rows within the stack budget.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int RowsPerBand(int lanes) =>
            Math.Clamp(ExpandedBandFloats / (T.KernelSize * Segment(lanes)) - (T.KernelSize - 1), 1, T.OutHeight);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Bands(int lanes) => (T.OutHeight + RowsPerBand(lanes) - 1) / RowsPerBand(lanes);

        public static int Taps
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.KernelSize * T.KernelSize;
        }

        /// <summary>
        /// Floats of the tables: per pattern (Period of them) the expansion's permute indices and the bias of each lane,
        /// then per tap and pattern the weight of each lane. Period × lanes ≤ OutChannels × 16 at every width.
        /// </summary>
        public static int TableLength
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Candidate ? (2 + Taps) * T.OutChannels * 16 : 0;
        }

        /// <summary>Writes the tables for vectors of <paramref name="lanes"/> floats.</summary>
        public static void BuildTables(float* tables, int lanes, float* kernel, float* bias)
        {
            int channels = T.OutChannels, patterns = Period(lanes) * lanes;
            var indices = (int*)tables;
            for (var pair = 0; pair < patterns; pair++)
            {
                var channel = pair % channels;
                indices[pair] = pair / channels - pair / lanes * lanes / channels;
                tables[patterns + pair] = bias[channel];
                for (var t = 0; t < Taps; t++) tables[(2 + t) * patterns + pair] = kernel[t * channels + channel];
            }
        }
    }

    /// <summary>
    /// Rows [0, rows) of one sample's output from its copied input rows, starting at <paramref name="source"/>: expands the
    /// input rows they read (once per kernel column), then computes each output row in tiles of Slots vectors.
    /// </summary>
    [SkipLocalsInit]
    private static void InterleavedForwardBand<TShape, TOps, TVec>(float* source, float* y, int rows, float* tables)
        where TShape : IConvShape where TOps : IVectorOps<TVec> where TVec : unmanaged
    {
        int lanes = TOps.Lanes, period = Interleaving<TShape>.Period(lanes), patterns = period * lanes;
        int k = TShape.KernelSize, segment = Interleaving<TShape>.Segment(lanes), inputRows = rows + k - 1;
        var buffer = stackalloc float[inputRows * k * segment + 16];
        var expanded = (float*)(((nint)buffer + 63) & ~(nint)63);

        // Each input row is expanded once, a little longer than a segment, then copied shifted by kx pixels (kx·C floats)
        // into the aligned segment of each kernel column.
        var row = stackalloc float[segment + k * TShape.OutChannels + lanes];
        for (var r = 0; r < inputRows; r++)
        {
            ExpandRow<TShape, TOps, TVec>(source + r * Geometry<TShape>.Pitch, row, segment + k * TShape.OutChannels, tables, patterns);
            for (var kx = 0; kx < k; kx++)
            {
                var column = expanded + (r * k + kx) * segment;
                var from = row + kx * TShape.OutChannels;
                for (var at = 0; at < segment; at += lanes) TOps.Store(column + at, TOps.Load(from + at));
            }
        }

        for (var oy = 0; oy < rows; oy++)
        {
            InterleavedRow<TShape, TOps, TVec>(expanded + oy * k * segment, y + oy * Interleaving<TShape>.RowLength, tables + patterns, tables + 2 * patterns);
        }
    }

    /// <summary>
    /// expanded[p·C + c] = row[p] for a whole segment: vector by vector, one load and one permute each. Past the row's
    /// pixels it repeats whatever follows them (the next row, or the scratch's slack): only unstored lanes read those.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExpandRow<TShape, TOps, TVec>(float* row, float* expanded, int segment, float* tables, int patterns)
        where TShape : IConvShape where TOps : IVectorOps<TVec> where TVec : unmanaged
    {
        var lanes = TOps.Lanes;
        for (int at = 0, pattern = 0; at < segment; at += lanes)
        {
            TOps.Store(expanded + at, TOps.Permute(TOps.Load(row + at / TShape.OutChannels), TOps.Load(tables + pattern)));
            pattern += lanes;
            if (pattern == patterns) pattern = 0;
        }
    }

    /// <summary>One output row: y = bias + Σ over taps of the expanded input times the tap's weight pattern, each slot in registers.</summary>
    /// <param name="expanded">The expanded segments from the row's first input row on: K per input row, one per kernel column.</param>
    /// <param name="y">The output row.</param>
    /// <param name="biases">The bias of each lane, per channel pattern.</param>
    /// <param name="weights">The weight of each lane, per tap and channel pattern.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleavedRow<TShape, TOps, TVec>(float* expanded, float* y, float* biases, float* weights)
        where TShape : IConvShape where TOps : IVectorOps<TVec> where TVec : unmanaged
    {
        int lanes = TOps.Lanes, period = Interleaving<TShape>.Period(lanes), patterns = period * lanes;
        int vectors = Interleaving<TShape>.Vectors(lanes), slots = Interleaving<TShape>.Slots(lanes);
        int k = TShape.KernelSize, segment = Interleaving<TShape>.Segment(lanes);
        var tail = Interleaving<TShape>.RowLength - (vectors - 1) * lanes;
        for (var v0 = 0; v0 < vectors; v0 += slots)
        {
            // Slot i holds vector v0 + i, whose channels follow pattern i mod Period (v0 is a multiple of it). Slots past the
            // row's end compute on the segment's end and are not stored.
            TVec a0 = TOps.Load(biases), a1 = Bias<TOps, TVec>(biases, 1, slots, period), a2 = Bias<TOps, TVec>(biases, 2, slots, period);
            TVec a3 = Bias<TOps, TVec>(biases, 3, slots, period), a4 = Bias<TOps, TVec>(biases, 4, slots, period), a5 = Bias<TOps, TVec>(biases, 5, slots, period);
            TVec a6 = Bias<TOps, TVec>(biases, 6, slots, period), a7 = Bias<TOps, TVec>(biases, 7, slots, period), a8 = Bias<TOps, TVec>(biases, 8, slots, period);
            TVec a9 = Bias<TOps, TVec>(biases, 9, slots, period), a10 = Bias<TOps, TVec>(biases, 10, slots, period), a11 = Bias<TOps, TVec>(biases, 11, slots, period);
            var row = expanded + v0 * lanes;
            var w = weights;
            for (var ky = 0; ky < k; ky++)
            {
                for (var kx = 0; kx < k; kx++)
                {
                    var at = row + kx * segment;
                    TVec w0 = TOps.Load(w), w1 = Weight<TOps, TVec>(w, 1, period), w2 = Weight<TOps, TVec>(w, 2, period), w3 = Weight<TOps, TVec>(w, 3, period);
                    TVec w4 = Weight<TOps, TVec>(w, 4, period), w5 = Weight<TOps, TVec>(w, 5, period), w6 = Weight<TOps, TVec>(w, 6, period);
                    a0 = TOps.MultiplyAdd(TOps.Load(at), w0, a0);
                    if (slots > 1) a1 = TOps.MultiplyAdd(TOps.Load(at + lanes), Pick(1 % period, w0, w1, w2, w3, w4, w5, w6), a1);
                    if (slots > 2) a2 = TOps.MultiplyAdd(TOps.Load(at + 2 * lanes), Pick(2 % period, w0, w1, w2, w3, w4, w5, w6), a2);
                    if (slots > 3) a3 = TOps.MultiplyAdd(TOps.Load(at + 3 * lanes), Pick(3 % period, w0, w1, w2, w3, w4, w5, w6), a3);
                    if (slots > 4) a4 = TOps.MultiplyAdd(TOps.Load(at + 4 * lanes), Pick(4 % period, w0, w1, w2, w3, w4, w5, w6), a4);
                    if (slots > 5) a5 = TOps.MultiplyAdd(TOps.Load(at + 5 * lanes), Pick(5 % period, w0, w1, w2, w3, w4, w5, w6), a5);
                    if (slots > 6) a6 = TOps.MultiplyAdd(TOps.Load(at + 6 * lanes), Pick(6 % period, w0, w1, w2, w3, w4, w5, w6), a6);
                    if (slots > 7) a7 = TOps.MultiplyAdd(TOps.Load(at + 7 * lanes), Pick(7 % period, w0, w1, w2, w3, w4, w5, w6), a7);
                    if (slots > 8) a8 = TOps.MultiplyAdd(TOps.Load(at + 8 * lanes), Pick(8 % period, w0, w1, w2, w3, w4, w5, w6), a8);
                    if (slots > 9) a9 = TOps.MultiplyAdd(TOps.Load(at + 9 * lanes), Pick(9 % period, w0, w1, w2, w3, w4, w5, w6), a9);
                    if (slots > 10) a10 = TOps.MultiplyAdd(TOps.Load(at + 10 * lanes), Pick(10 % period, w0, w1, w2, w3, w4, w5, w6), a10);
                    if (slots > 11) a11 = TOps.MultiplyAdd(TOps.Load(at + 11 * lanes), Pick(11 % period, w0, w1, w2, w3, w4, w5, w6), a11);
                    w += patterns;
                }

                row += k * segment;
            }

            StoreSlot<TOps, TVec>(y, v0, 0, slots, vectors, tail, a0); StoreSlot<TOps, TVec>(y, v0, 1, slots, vectors, tail, a1);
            StoreSlot<TOps, TVec>(y, v0, 2, slots, vectors, tail, a2); StoreSlot<TOps, TVec>(y, v0, 3, slots, vectors, tail, a3);
            StoreSlot<TOps, TVec>(y, v0, 4, slots, vectors, tail, a4); StoreSlot<TOps, TVec>(y, v0, 5, slots, vectors, tail, a5);
            StoreSlot<TOps, TVec>(y, v0, 6, slots, vectors, tail, a6); StoreSlot<TOps, TVec>(y, v0, 7, slots, vectors, tail, a7);
            StoreSlot<TOps, TVec>(y, v0, 8, slots, vectors, tail, a8); StoreSlot<TOps, TVec>(y, v0, 9, slots, vectors, tail, a9);
            StoreSlot<TOps, TVec>(y, v0, 10, slots, vectors, tail, a10); StoreSlot<TOps, TVec>(y, v0, 11, slots, vectors, tail, a11);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Bias<TOps, TVec>(float* biases, int slot, int slots, int period) where TOps : IVectorOps<TVec> where TVec : unmanaged =>
        slot < slots ? TOps.Load(biases + slot % period * TOps.Lanes) : TOps.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Weight<TOps, TVec>(float* w, int pattern, int period) where TOps : IVectorOps<TVec> where TVec : unmanaged =>
        pattern < period ? TOps.Load(w + pattern * TOps.Lanes) : TOps.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSlot<TOps, TVec>(float* y, int v0, int slot, int slots, int vectors, int tail, TVec value)
        where TOps : IVectorOps<TVec> where TVec : unmanaged
    {
        var v = v0 + slot;
        if (slot >= slots || v >= vectors) return;
        if (v == vectors - 1 && tail < TOps.Lanes) TOps.StoreMasked(y + v * TOps.Lanes, value, TOps.FirstLanes(tail));
        else TOps.Store(y + v * TOps.Lanes, value);
    }

    /// <summary>The weight vector of pattern <paramref name="pattern"/> (a constant where it is called, so the switch folds away).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Pick<TVec>(int pattern, TVec w0, TVec w1, TVec w2, TVec w3, TVec w4, TVec w5, TVec w6) => pattern switch
    {
        0 => w0,
        1 => w1,
        2 => w2,
        3 => w3,
        4 => w4,
        5 => w5,
        _ => w6,
    };
}

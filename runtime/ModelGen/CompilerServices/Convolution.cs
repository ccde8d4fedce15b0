using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>
/// Conv2D on the CPU, batch-major and channels last (for generated code only): the forward pass with its activation,
/// the kernel and bias gradients, and the input gradient. Every call runs on a whole batch; the shape type argument
/// is the layer's shape as type constants, so the JIT compiles a copy of each kernel with every dimension folded in.
/// Dense layers run on the same kernels as the 1 × 1 convolution of a 1 × 1 image (<see cref="Dense"/>).
/// </summary>
/// <remarks>
/// <para>
/// Each direction is one <see cref="RegisterTile"/> multiply-add tile over the layer's data, vectorised over output
/// channels (forward), over output channels with kernel taps as rows (kernel gradient) and over kernel taps (input
/// gradient). Padding copies the input into a zero-bordered image in <c>scratch</c> first, so the tiles never test bounds.
/// </para>
/// <para>
/// Work is split into items — output rows or sample tiles forward, kernel-tap tiles for the kernel gradient (each sums
/// over the whole batch), samples for the input gradient — so every output value is computed by one item in a fixed
/// order, and the results do not depend on the number of threads.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe partial class Convolution
{
    /// <summary>Floats of scratch memory the kernels of <typeparamref name="TShape"/> need for a pass of <paramref name="capacity"/> samples.</summary>
    public static long ScratchLength<TShape>(int capacity) where TShape : IConvShape =>
        TablesOffset<TShape>(capacity) + Interleaving<TShape>.TableLength + (Interleaving<TShape>.Candidate ? Slack : 0);

    // Scratch, in floats from its start: the copied input (count images) and the zero-bordered input gradient (count
    // images) when the input is copied; a shared region (the transposed kernel, or the partial kernel gradients); the
    // interleaving tables; slack that an interleaved load may read past the last image (and ignore).

    private const int Slack = 512;

    private static long SharedOffset<TShape>(int count) where TShape : IConvShape =>
        Geometry<TShape>.Copied ? 2L * count * Geometry<TShape>.Image : 0;

    private static long TablesOffset<TShape>(int count) where TShape : IConvShape =>
        SharedOffset<TShape>(count) + Math.Max(WeightsTransposedLength<TShape>(), (long)SampleChunks<TShape>(count) * Geometry<TShape>.KernelLength);

    /// <summary>Samples per chunk of the kernel gradient: each chunk's sum is a partial, the partials are added in order.</summary>
    private const int SamplesPerChunk = 8;

    /// <summary>Most chunks, so that their partial sums stay a small multiple of the kernel.</summary>
    private const int MaxChunks = 8;

    /// <summary>
    /// How many chunks of samples the kernel gradient of a pass of <paramref name="count"/> samples is summed in: 1 for
    /// dense layers (their inputs are small and every tile reads them all), else up to 8 — so that each thread sums the
    /// samples whose activations its caches already hold. Fixed by the count alone, never by the threads.
    /// </summary>
    private static int SampleChunks<TShape>(int count) where TShape : IConvShape =>
        Geometry<TShape>.SamplesAsRows ? 1 : Math.Clamp((count + SamplesPerChunk - 1) / SamplesPerChunk, 1, MaxChunks);

    private static long WeightsTransposedLength<TShape>() where TShape : IConvShape =>
        (long)TShape.OutChannels * TShape.KernelSize * Geometry<TShape>.LinePad;

    /// <summary>y = activation(x ∗ kernel + bias) for the pass's samples.</summary>
    /// <param name="pass">The batch.</param>
    /// <param name="x">Input, [count, InHeight, InWidth, InChannels].</param>
    /// <param name="kernel">Keras layout [KernelSize, KernelSize, InChannels, OutChannels].</param>
    /// <param name="bias">[OutChannels].</param>
    /// <param name="y">Output, [count, OutHeight, OutWidth, OutChannels].</param>
    /// <param name="scratch">At least <see cref="ScratchLength{TShape}"/> floats.</param>
    public static void Forward<TShape, TActivation>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        where TShape : IConvShape where TActivation : IActivationFunction
    {
        var count = pass.Count;
        if (x.Length < (long)count * Geometry<TShape>.InputLength || kernel.Length < Geometry<TShape>.KernelLength
            || bias.Length < TShape.OutChannels || y.Length < (long)count * Geometry<TShape>.OutputLength
            || scratch.Length < ScratchLength<TShape>(count))
        {
            throw Kernels.TooShort(nameof(Forward));
        }

        fixed (float* xp = x)
        fixed (float* kp = kernel)
        fixed (float* bp = bias)
        fixed (float* yp = y)
        fixed (float* sp = scratch)
        {
            var source = PadInput<TShape>(pass, xp, sp);
            var tables = sp + TablesOffset<TShape>(count);
            if (Interleaving<TShape>.Applies(Simd.Lanes)) Interleaving<TShape>.BuildTables(tables, Simd.Lanes, kp, bp);
            var job = new ForwardJob<TShape, TActivation> { Source = source, Kernel = kp, Bias = bp, Y = yp, Tables = tables, Count = count };
            pass.Run(job.Items(), ref job);
        }
    }

    /// <summary>
    /// From dz = d(loss)/d(pre-activation): the kernel and bias gradients summed over the pass's samples (written, not
    /// added), and, unless <paramref name="dx"/> is empty, d(loss)/d(x).
    /// </summary>
    /// <param name="pass">The batch.</param>
    /// <param name="x">The forward pass's input, [count, InHeight, InWidth, InChannels].</param>
    /// <param name="kernel">Keras layout [KernelSize, KernelSize, InChannels, OutChannels].</param>
    /// <param name="dz">[count, OutHeight, OutWidth, OutChannels].</param>
    /// <param name="dKernel">Receives Σ over samples of d(loss)/d(kernel).</param>
    /// <param name="dBias">Receives Σ over samples of d(loss)/d(bias).</param>
    /// <param name="dx">Receives d(loss)/d(x), [count, InHeight, InWidth, InChannels]; empty when not needed.</param>
    /// <param name="scratch">At least <see cref="ScratchLength{TShape}"/> floats.</param>
    public static void Backward<TShape>(
        in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> kernel, ReadOnlySpan<float> dz,
        Span<float> dKernel, Span<float> dBias, Span<float> dx, Span<float> scratch)
        where TShape : IConvShape
    {
        var count = pass.Count;
        if (x.Length < (long)count * Geometry<TShape>.InputLength || kernel.Length < Geometry<TShape>.KernelLength
            || dz.Length < (long)count * Geometry<TShape>.OutputLength || dKernel.Length < Geometry<TShape>.KernelLength
            || dBias.Length < TShape.OutChannels || (!dx.IsEmpty && dx.Length < (long)count * Geometry<TShape>.InputLength)
            || scratch.Length < ScratchLength<TShape>(count))
        {
            throw Kernels.TooShort(nameof(Backward));
        }

        fixed (float* xp = x)
        fixed (float* kp = kernel)
        fixed (float* dzp = dz)
        fixed (float* dkp = dKernel)
        fixed (float* dbp = dBias)
        fixed (float* dxp = dx)
        fixed (float* sp = scratch)
        {
            var source = PadInput<TShape>(pass, xp, sp);
            var chunks = SampleChunks<TShape>(count);
            var partials = sp + SharedOffset<TShape>(count);
            var gradient = new KernelGradientJob<TShape>
            {
                Source = source, Dz = dzp, DKernel = chunks == 1 ? dkp : partials, Count = count, Chunks = chunks,
            };
            pass.Run(gradient.Items(), ref gradient);
            if (chunks > 1)
            {
                var reduce = new ChunkSumJob { Partials = partials, Target = dkp, Length = Geometry<TShape>.KernelLength, Chunks = chunks };
                pass.Run(reduce.Items(), ref reduce);
            }

            var bias = new BiasGradientJob { Dz = dzp, DBias = dbp, Rows = count * TShape.OutHeight * TShape.OutWidth, Channels = TShape.OutChannels };
            pass.Run(bias.Items(), ref bias);

            if (dx.IsEmpty) return;
            var transposed = sp + SharedOffset<TShape>(count);
            var transpose = new TransposeJob<TShape> { Kernel = kp, Transposed = transposed };
            pass.Run(transpose.Items(), ref transpose);
            var input = new InputGradientJob<TShape>
            {
                Dz = dzp, Transposed = transposed, Dx = dxp, PaddedDx = sp + (long)count * Geometry<TShape>.Image, Count = count,
            };
            pass.Run(input.Items(), ref input);
        }
    }

    /// <summary>The image the tiles read: x itself, or x copied (into zero-bordered images when padded) at the start of scratch.</summary>
    private static float* PadInput<TShape>(in BatchPass pass, float* x, float* scratch) where TShape : IConvShape
    {
        if (!Geometry<TShape>.Copied) return x;
        var job = new PadJob<TShape> { X = x, Padded = scratch };
        pass.Run(pass.Count, ref job);
        return scratch;
    }

    /// <summary>Constants derived from a shape; expression-bodied, so they fold like the shape's own.</summary>
    internal static class Geometry<T> where T : IConvShape
    {
        public static int InputLength
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.InHeight * T.InWidth * T.InChannels;
        }

        public static int OutputLength
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.OutHeight * T.OutWidth * T.OutChannels;
        }

        public static int KernelLength
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.KernelSize * T.KernelSize * T.InChannels * T.OutChannels;
        }

        /// <summary>Rows and columns the windows cover, padding included ('same' pads bottom and right as needed).</summary>
        public static int PaddedHeight
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => (T.OutHeight - 1) * T.Stride + T.KernelSize;
        }

        public static int PaddedWidth
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => (T.OutWidth - 1) * T.Stride + T.KernelSize;
        }

        /// <summary>True when the windows reach outside the input, so the tiles read a zero-bordered copy.</summary>
        public static bool Padded
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.PadTop > 0 || T.PadLeft > 0 || PaddedHeight > T.InHeight || PaddedWidth > T.InWidth;
        }

        /// <summary>True when the tiles read a copy of the input: a padded one, or one followed by slack for interleaved loads.</summary>
        public static bool Copied
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Padded || Interleaving<T>.Candidate;
        }

        public static int SourceHeight
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Padded ? PaddedHeight : T.InHeight;
        }

        public static int SourceWidth
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Padded ? PaddedWidth : T.InWidth;
        }

        /// <summary>Floats per row of the image the tiles read.</summary>
        public static int Pitch
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => SourceWidth * T.InChannels;
        }

        /// <summary>Floats per image the tiles read.</summary>
        public static int Image
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => SourceHeight * Pitch;
        }

        /// <summary>Taps of one kernel row (kx, channel): contiguous in the input rows and in the kernel.</summary>
        public static int Line
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.KernelSize * T.InChannels;
        }

        /// <summary>A kernel row of the transposed weights, rounded up to whole vectors of any width (zeros after Line).</summary>
        public static int LinePad
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => (Line + 15) & ~15;
        }

        /// <summary>True when the output is one pixel per sample, so forward tiles and kernel-gradient steps run over samples.</summary>
        public static bool SamplesAsRows
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.OutHeight == 1 && T.OutWidth == 1;
        }

        /// <summary>True for a dense layer (1 × 1 kernel on a 1 × 1 image): each input gradient value has exactly one term set.</summary>
        public static bool DenseInputGradient
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => T.InHeight == 1 && T.InWidth == 1 && T.KernelSize == 1 && !Padded;
        }
    }

    // ---------------------------------------------------------------------------------------------------- padding

    private struct PadJob<TShape> : IParallelJob where TShape : IConvShape
    {
        public float* X;
        public float* Padded;

        public void Execute(int n)
        {
            int c = TShape.InChannels, width = Geometry<TShape>.SourceWidth;
            var target = Padded + (long)n * Geometry<TShape>.Image;
            new Span<float>(target, Geometry<TShape>.Image).Clear();
            var rows = Math.Min(TShape.InHeight, Geometry<TShape>.SourceHeight - TShape.PadTop);
            var columns = Math.Min(TShape.InWidth, width - TShape.PadLeft);
            var source = X + (long)n * Geometry<TShape>.InputLength;
            for (var iy = 0; iy < rows; iy++)
            {
                new ReadOnlySpan<float>(source + iy * TShape.InWidth * c, columns * c)
                    .CopyTo(new Span<float>(target + ((iy + TShape.PadTop) * width + TShape.PadLeft) * c, columns * c));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- forward

    /// <summary>Forward steps: kernel row by kernel row, (kx, channel) by (kx, channel); rows of the tile are output pixels.</summary>
    private struct ForwardSteps<TShape> : ITileSteps where TShape : IConvShape
    {
        private nint _operand, _weights;
        private int _left, _lines;

        public ForwardSteps()
        {
            _left = Geometry<TShape>.Line;
            _lines = TShape.KernelSize;
        }

        public static int RowsPerLine
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => 24;
        }

        /// <summary>Next pixel to the right (stride apart), or the next sample for one-pixel outputs.</summary>
        public static int RowStride
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Geometry<TShape>.SamplesAsRows ? Geometry<TShape>.Image : TShape.Stride * TShape.InChannels;
        }

        public static int LineStride
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Next(out nint operand, out nint weights)
        {
            if (_left == 0)
            {
                if (--_lines == 0)
                {
                    operand = weights = 0;
                    return false;
                }

                _operand += Geometry<TShape>.Pitch - Geometry<TShape>.Line;
                _left = Geometry<TShape>.Line;
            }

            operand = _operand++;
            weights = _weights;
            _weights += TShape.OutChannels;
            _left--;
            return true;
        }
    }

    private struct ForwardSink<TOps, TVec, TShape, TActivation> : ITileSink<TVec>
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TShape : IConvShape where TActivation : IActivationFunction
    {
        public float* Bias;
        public float* Y;
        public int LastBlock;
        public TVec LastMask;
        public bool LastPartial;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Initial(int block) =>
            block == LastBlock && LastPartial ? TOps.LoadMasked(Bias + block * TOps.Lanes, LastMask) : TOps.Load(Bias + block * TOps.Lanes);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Finish(int row, int block, TVec value)
        {
            // The activation runs afterwards over the item's stored outputs (ForwardJob): inlined here it would be copied into
            // every accumulator's epilogue, crowd the tile's own code out of the JIT's inlining budget, and run on whole vectors
            // for layers with fewer channels than lanes.
            var target = Y + row * TShape.OutChannels + block * TOps.Lanes;
            if (block == LastBlock && LastPartial) TOps.StoreMasked(target, value, LastMask);
            else TOps.Store(target, value);
        }
    }

    private struct ForwardTile<TShape, TActivation> : ITileBody where TShape : IConvShape where TActivation : IActivationFunction
    {
        public float* Source, Kernel, Bias, Y;
        public int LastLanes;

        public void Run<TOps, TVec, TRows, TBlocks>()
            where TOps : IVectorOps<TVec> where TVec : unmanaged where TRows : struct, IConstant where TBlocks : struct, IConstant
        {
            var steps = new ForwardSteps<TShape>();
            var sink = new ForwardSink<TOps, TVec, TShape, TActivation>
            {
                Bias = Bias, Y = Y, LastBlock = Unsafe.SizeOf<TBlocks>() - 1, LastMask = TOps.FirstLanes(LastLanes), LastPartial = LastLanes < TOps.Lanes,
            };
            RegisterTile.Run<TOps, TVec, TRows, TBlocks, ForwardSteps<TShape>, ForwardSink<TOps, TVec, TShape, TActivation>>(
                Source, Kernel, ref steps, ref sink, LastLanes);
        }
    }

    /// <summary>
    /// Items: one output row of one sample, or (for one-pixel outputs) one tile of samples × one group of channel blocks,
    /// or (interleaved) one band of output rows of one sample.
    /// </summary>
    private struct ForwardJob<TShape, TActivation> : IParallelJob, IWidthGeneric where TShape : IConvShape where TActivation : IActivationFunction
    {
        public float* Source, Kernel, Bias, Y, Tables;
        public int Count;
        private int _item;

        public int Items()
        {
            if (Interleaving<TShape>.Applies(Simd.Lanes)) return Count * Interleaving<TShape>.Bands(Simd.Lanes);
            if (!Geometry<TShape>.SamplesAsRows) return Count * TShape.OutHeight;
            var layout = new ChannelBlocks(TShape.OutChannels, Simd.Lanes);
            return (Count + layout.MaxRows - 1) / layout.MaxRows * layout.Groups;
        }

        public readonly void Execute(int item)
        {
            // The job is shared by the threads: each item runs on its own copy.
            var local = this;
            local._item = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            var layout = new ChannelBlocks(TShape.OutChannels, TOps.Lanes);
            var tile = new ForwardTile<TShape, TActivation> { Kernel = Kernel, Bias = Bias };
            if (Geometry<TShape>.SamplesAsRows)
            {
                var group = _item % layout.Groups;
                var first = _item / layout.Groups * layout.MaxRows;
                var samples = Math.Min(layout.MaxRows, Count - first);
                RunGroup<TOps, TVec>(ref tile, layout, group, samples, Source + (long)first * Geometry<TShape>.Image, Y + (long)first * TShape.OutChannels);
                var columns = group * layout.PerTile * TOps.Lanes;
                var width = Math.Min(TShape.OutChannels - columns, layout.PerTile * TOps.Lanes);
                for (var s = 0; s < samples; s++) Activate<TOps, TVec>(Y + (long)(first + s) * TShape.OutChannels + columns, width);
                return;
            }

            if (Interleaving<TShape>.Applies(TOps.Lanes))
            {
                int sample = _item / Interleaving<TShape>.Bands(TOps.Lanes), band = _item % Interleaving<TShape>.Bands(TOps.Lanes);
                var firstRow = band * Interleaving<TShape>.RowsPerBand(TOps.Lanes);
                var rows = Math.Min(Interleaving<TShape>.RowsPerBand(TOps.Lanes), TShape.OutHeight - firstRow);
                var output = Y + ((long)sample * TShape.OutHeight + firstRow) * Interleaving<TShape>.RowLength;
                InterleavedForwardBand<TShape, TOps, TVec>(Source + (long)sample * Geometry<TShape>.Image + firstRow * Geometry<TShape>.Pitch, output, rows, Tables);
                Activate<TOps, TVec>(output, rows * Interleaving<TShape>.RowLength);
                return;
            }

            int n = _item / TShape.OutHeight, oy = _item % TShape.OutHeight;
            var sourceRow = Source + (long)n * Geometry<TShape>.Image + oy * TShape.Stride * Geometry<TShape>.Pitch;
            var outputRow = Y + ((long)n * TShape.OutHeight + oy) * TShape.OutWidth * TShape.OutChannels;
            var (tiles, size, last) = RegisterTile.Split(TShape.OutWidth, layout.MaxRows);
            for (var t = 0; t < tiles; t++)
            {
                var x0 = t * size;
                for (var g = 0; g < layout.Groups; g++)
                {
                    RunGroup<TOps, TVec>(ref tile, layout, g, t == tiles - 1 ? last : size,
                        sourceRow + x0 * TShape.Stride * TShape.InChannels, outputRow + x0 * TShape.OutChannels);
                }
            }

            Activate<TOps, TVec>(outputRow, TShape.OutWidth * TShape.OutChannels);
        }

        /// <summary>Applies the activation to <paramref name="length"/> stored outputs, whole vectors then a masked tail.</summary>
        private static void Activate<TOps, TVec>(float* y, int length) where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            if (TActivation.Function is Activation.None or Activation.Softmax) return;
            var i = 0;
            for (; i + TOps.Lanes <= length; i += TOps.Lanes) TOps.Store(y + i, ActivationMath.Apply<TOps, TVec, TActivation>(TOps.Load(y + i)));
            if (i == length) return;
            var mask = TOps.FirstLanes(length - i);
            TOps.StoreMasked(y + i, ActivationMath.Apply<TOps, TVec, TActivation>(TOps.LoadMasked(y + i, mask)), mask);
        }

        private static void RunGroup<TOps, TVec>(ref ForwardTile<TShape, TActivation> tile, ChannelBlocks layout, int group, int rows, float* source, float* y)
            where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            var offset = group * layout.PerTile * TOps.Lanes;
            tile.Source = source;
            tile.Y = y + offset;
            var kernel = tile.Kernel;
            var bias = tile.Bias;
            tile.Kernel = kernel + offset;
            tile.Bias = bias + offset;
            tile.LastLanes = layout.LastLanesOf(group);
            RegisterTile.Dispatch<TOps, TVec, ForwardTile<TShape, TActivation>>(rows, layout.BlocksOf(group), ref tile);
            tile.Kernel = kernel;
            tile.Bias = bias;
        }
    }

    // ---------------------------------------------------------------------------------------------------- kernel gradient

    /// <summary>Kernel-gradient steps: every output pixel of every sample; rows of the tile are kernel taps.</summary>
    private struct KernelGradientSteps<TShape> : ITileSteps where TShape : IConvShape
    {
        private nint _operand, _weights;
        private int _x, _y, _samples;

        public KernelGradientSteps(int count)
        {
            _x = TShape.OutWidth;
            _y = TShape.OutHeight;
            _samples = count;
        }

        /// <summary>A tile covers whole kernel rows (Line taps each) or part of one.</summary>
        public static int RowsPerLine
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Geometry<TShape>.Line;
        }

        public static int RowStride
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => 1;
        }

        public static int LineStride
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Geometry<TShape>.Pitch;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Next(out nint operand, out nint weights)
        {
            if (_x == 0)
            {
                _x = TShape.OutWidth;
                _operand += TShape.Stride * Geometry<TShape>.Pitch - TShape.OutWidth * TShape.Stride * TShape.InChannels;
                if (--_y == 0)
                {
                    _y = TShape.OutHeight;
                    _operand += Geometry<TShape>.Image - TShape.OutHeight * TShape.Stride * Geometry<TShape>.Pitch;
                    if (--_samples == 0)
                    {
                        operand = weights = 0;
                        return false;
                    }
                }
            }

            operand = _operand;
            weights = _weights;
            _operand += TShape.Stride * TShape.InChannels;
            _weights += TShape.OutChannels;
            _x--;
            return true;
        }
    }

    private struct KernelGradientSink<TOps, TVec, TShape> : ITileSink<TVec>
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TShape : IConvShape
    {
        public float* DKernel;
        public int LastBlock;
        public TVec LastMask;
        public bool LastPartial;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Initial(int block) => TOps.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Finish(int row, int block, TVec value)
        {
            // Tile rows are consecutive taps of the kernel (whole kernel rows follow each other), i.e. consecutive rows of dKernel.
            var target = DKernel + row * TShape.OutChannels + block * TOps.Lanes;
            if (block == LastBlock && LastPartial) TOps.StoreMasked(target, value, LastMask);
            else TOps.Store(target, value);
        }
    }

    private struct KernelGradientTile<TShape> : ITileBody where TShape : IConvShape
    {
        public float* Source, Dz, DKernel;
        public int LastLanes, Count;

        public void Run<TOps, TVec, TRows, TBlocks>()
            where TOps : IVectorOps<TVec> where TVec : unmanaged where TRows : struct, IConstant where TBlocks : struct, IConstant
        {
            var steps = new KernelGradientSteps<TShape>(Count);
            var sink = new KernelGradientSink<TOps, TVec, TShape>
            {
                DKernel = DKernel, LastBlock = Unsafe.SizeOf<TBlocks>() - 1, LastMask = TOps.FirstLanes(LastLanes), LastPartial = LastLanes < TOps.Lanes,
            };
            RegisterTile.Run<TOps, TVec, TRows, TBlocks, KernelGradientSteps<TShape>, KernelGradientSink<TOps, TVec, TShape>>(
                Source, Dz, ref steps, ref sink, LastLanes);
        }
    }

    /// <summary>
    /// Items: one chunk of samples × one tile of kernel taps × one group of output-channel blocks. With one chunk the
    /// item's sum over the whole batch goes to dKernel; with several, each chunk's to its partial.
    /// </summary>
    private struct KernelGradientJob<TShape> : IParallelJob, IWidthGeneric where TShape : IConvShape
    {
        public float* Source, Dz, DKernel;
        public int Count, Chunks;
        private int _item;

        public readonly int Items()
        {
            var layout = new ChannelBlocks(TShape.OutChannels, Simd.Lanes);
            return Chunks * TapTiles.For<TShape>(layout.MaxRows).Count * layout.Groups;
        }

        public readonly void Execute(int item)
        {
            // The job is shared by the threads: each item runs on its own copy.
            var local = this;
            local._item = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            var layout = new ChannelBlocks(TShape.OutChannels, TOps.Lanes);
            var taps = TapTiles.For<TShape>(layout.MaxRows);
            var perChunk = taps.Count * layout.Groups;
            int chunk = _item / perChunk, group = _item % layout.Groups, t = _item % perChunk / layout.Groups;
            int first = (int)((long)Count * chunk / Chunks), samples = (int)((long)Count * (chunk + 1) / Chunks) - first;
            var (firstTap, rows) = taps.Tile(t);
            var offset = group * layout.PerTile * TOps.Lanes;
            var line = Geometry<TShape>.Line;
            var tile = new KernelGradientTile<TShape>
            {
                Source = Source + (long)first * Geometry<TShape>.Image + firstTap / line * Geometry<TShape>.Pitch + firstTap % line,
                Dz = Dz + (long)first * Geometry<TShape>.OutputLength + offset,
                DKernel = DKernel + (long)chunk * Geometry<TShape>.KernelLength + (long)firstTap * TShape.OutChannels + offset,
                LastLanes = layout.LastLanesOf(group),
                Count = samples,
            };
            RegisterTile.Dispatch<TOps, TVec, KernelGradientTile<TShape>>(rows, layout.BlocksOf(group), ref tile);
        }
    }

    /// <summary>Items: 4,096 values. target = partial 0 + partial 1 + … in chunk order.</summary>
    private struct ChunkSumJob : IParallelJob
    {
        private const int Block = 4096;

        public float* Partials, Target;
        public int Length, Chunks;

        public readonly int Items() => (Length + Block - 1) / Block;

        public readonly void Execute(int item)
        {
            var first = item * Block;
            var target = new Span<float>(Target + first, Math.Min(Block, Length - first));
            new ReadOnlySpan<float>(Partials + first, target.Length).CopyTo(target);
            for (var c = 1; c < Chunks; c++)
            {
                var partial = Partials + (long)c * Length + first;
                var i = 0;
                for (; i + System.Numerics.Vector<float>.Count <= target.Length; i += System.Numerics.Vector<float>.Count)
                {
                    var at = target.Slice(i);
                    (new System.Numerics.Vector<float>(at) + new System.Numerics.Vector<float>(new ReadOnlySpan<float>(partial + i, System.Numerics.Vector<float>.Count))).CopyTo(at);
                }

                for (; i < target.Length; i++) target[i] += partial[i];
            }
        }
    }

    /// <summary>
    /// How the kernel taps (ky, kx, channel) are cut into tiles of at most MaxRows: parts of one kernel row when a row has
    /// at least that many taps, else whole kernel rows, several per tile.
    /// </summary>
    private readonly record struct TapTiles(int Count, int TilesPerLine, int Size, int Last, bool WholeLines)
    {
        public static TapTiles For<TShape>(int maxRows) where TShape : IConvShape
        {
            var line = Geometry<TShape>.Line;
            if (line >= maxRows)
            {
                var (perLine, size, last) = RegisterTile.Split(line, maxRows);
                return new TapTiles(perLine * TShape.KernelSize, perLine, size, last, WholeLines: false);
            }

            var (tiles, lines, lastLines) = RegisterTile.Split(TShape.KernelSize, maxRows / line);
            return new TapTiles(tiles, 1, lines * line, lastLines * line, WholeLines: true);
        }

        /// <summary>The first tap (index into the flattened kernel rows) and the number of taps of tile <paramref name="t"/>.</summary>
        public (int FirstTap, int Rows) Tile(int t)
        {
            if (WholeLines) return (t * Size, t == Count - 1 ? Last : Size);
            int ky = t / TilesPerLine, part = t % TilesPerLine, line = Size * (TilesPerLine - 1) + Last;
            return (ky * line + part * Size, part == TilesPerLine - 1 ? Last : Size);
        }
    }

    /// <summary>Items: one vector block of channels, summed over every output pixel of every sample in a fixed order.</summary>
    private struct BiasGradientJob : IParallelJob, IWidthGeneric
    {
        public float* Dz, DBias;
        public int Rows, Channels;
        private int _block;

        public readonly int Items() => (Channels + Simd.Lanes - 1) / Simd.Lanes;

        public readonly void Execute(int item)
        {
            var local = this;
            local._block = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            var first = _block * TOps.Lanes;
            var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, Channels - first));
            var column = Dz + first;
            // Four interleaved partial sums hide the add latency; they are combined in a fixed order.
            TVec s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
            var r = 0;
            for (; r + 4 <= Rows; r += 4)
            {
                s0 = TOps.Add(s0, TOps.LoadMasked(column + (long)r * Channels, mask));
                s1 = TOps.Add(s1, TOps.LoadMasked(column + (long)(r + 1) * Channels, mask));
                s2 = TOps.Add(s2, TOps.LoadMasked(column + (long)(r + 2) * Channels, mask));
                s3 = TOps.Add(s3, TOps.LoadMasked(column + (long)(r + 3) * Channels, mask));
            }

            for (; r < Rows; r++) s0 = TOps.Add(s0, TOps.LoadMasked(column + (long)r * Channels, mask));
            TOps.StoreMasked(DBias + first, TOps.Add(TOps.Add(s0, s1), TOps.Add(s2, s3)), mask);
        }
    }

    // ---------------------------------------------------------------------------------------------------- input gradient

    /// <summary>
    /// Items: 16 output channels. kernel[ky, kx, c, o] → transposed[o, ky, kx·C + c], each kernel row padded with zeros to
    /// whole vectors: per kernel row a (K·C) × O matrix transposed, in 8 × 8 blocks held in registers where the machine has
    /// AVX (24 shuffles move 64 floats), value by value at the edges.
    /// </summary>
    private struct TransposeJob<TShape> : IParallelJob where TShape : IConvShape
    {
        public float* Kernel, Transposed;

        public readonly int Items() => (TShape.OutChannels + 15) / 16;

        public readonly void Execute(int item)
        {
            int line = Geometry<TShape>.Line, pad = Geometry<TShape>.LinePad, k = TShape.KernelSize, outC = TShape.OutChannels;
            int first = item * 16, end = Math.Min(outC, first + 16), stride = k * pad;
            for (var ky = 0; ky < k; ky++)
            {
                var source = Kernel + (long)ky * line * outC;   // [line, outC]
                var target = Transposed + ky * pad;            // [outC, ...] with rows 'stride' apart
                var o = first;
                if (Avx.IsSupported)
                {
                    for (; o + 8 <= end; o += 8)
                    {
                        var j = 0;
                        for (; j + 8 <= line; j += 8) Transpose8x8(source + (long)j * outC + o, outC, target + (long)o * stride + j, stride);
                        for (; j < line; j++)
                        {
                            for (var oo = o; oo < o + 8; oo++) target[(long)oo * stride + j] = source[(long)j * outC + oo];
                        }
                    }
                }

                for (; o < end; o++)
                {
                    for (var j = 0; j < line; j++) target[(long)o * stride + j] = source[(long)j * outC + o];
                }

                for (o = first; o < end; o++) new Span<float>(target + (long)o * stride + line, pad - line).Clear();
            }
        }

        /// <summary>target[c, r] = source[r, c] for an 8 × 8 block (rows sourceStride and targetStride floats apart).</summary>
        private static void Transpose8x8(float* source, int sourceStride, float* target, int targetStride)
        {
            var r0 = Vector256.Load(source);
            var r1 = Vector256.Load(source + sourceStride);
            var r2 = Vector256.Load(source + 2 * sourceStride);
            var r3 = Vector256.Load(source + 3 * sourceStride);
            var r4 = Vector256.Load(source + 4 * sourceStride);
            var r5 = Vector256.Load(source + 5 * sourceStride);
            var r6 = Vector256.Load(source + 6 * sourceStride);
            var r7 = Vector256.Load(source + 7 * sourceStride);
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7);
            var t7 = Avx.UnpackHigh(r6, r7);
            var s0 = Avx.Shuffle(t0, t2, 0x44);
            var s1 = Avx.Shuffle(t0, t2, 0xEE);
            var s2 = Avx.Shuffle(t1, t3, 0x44);
            var s3 = Avx.Shuffle(t1, t3, 0xEE);
            var s4 = Avx.Shuffle(t4, t6, 0x44);
            var s5 = Avx.Shuffle(t4, t6, 0xEE);
            var s6 = Avx.Shuffle(t5, t7, 0x44);
            var s7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Permute2x128(s0, s4, 0x20).Store(target);
            Avx.Permute2x128(s1, s5, 0x20).Store(target + targetStride);
            Avx.Permute2x128(s2, s6, 0x20).Store(target + 2 * targetStride);
            Avx.Permute2x128(s3, s7, 0x20).Store(target + 3 * targetStride);
            Avx.Permute2x128(s0, s4, 0x31).Store(target + 4 * targetStride);
            Avx.Permute2x128(s1, s5, 0x31).Store(target + 5 * targetStride);
            Avx.Permute2x128(s2, s6, 0x31).Store(target + 6 * targetStride);
            Avx.Permute2x128(s3, s7, 0x31).Store(target + 7 * targetStride);
        }
    }

    /// <summary>
    /// Input-gradient steps for one row of the input gradient: every output row whose windows reach it (its kernel row
    /// ky), then every output channel; rows of the tile are output pixels (or samples, for dense layers). The sums over
    /// the kernel rows stay in registers, so each input gradient value is written once per tile.
    /// </summary>
    private struct InputGradientSteps<TShape> : ITileSteps where TShape : IConvShape
    {
        private nint _row, _kernelRow, _weights;
        private int _channel, _rows;

        /// <param name="firstKernelRow">The kernel row that the operand's output row reaches this input row with.</param>
        /// <param name="kernelRows">Output rows to take: the operand's and those above it, a stride further down the kernel each.</param>
        public InputGradientSteps(int firstKernelRow, int kernelRows)
        {
            _kernelRow = _weights = (nint)firstKernelRow * Geometry<TShape>.LinePad;
            _rows = kernelRows;
        }

        public static int RowsPerLine
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => 24;
        }

        /// <summary>dz of the next pixel to the right (or of the next sample, for dense layers).</summary>
        public static int RowStride
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => TShape.OutChannels;
        }

        public static int LineStride
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Next(out nint operand, out nint weights)
        {
            if (_channel == TShape.OutChannels)
            {
                if (--_rows <= 0)
                {
                    operand = weights = 0;
                    return false;
                }

                // The output row above, whose windows reach this input row a stride further down the kernel.
                _channel = 0;
                _row -= TShape.OutWidth * TShape.OutChannels;
                _kernelRow += TShape.Stride * Geometry<TShape>.LinePad;
                _weights = _kernelRow;
            }

            operand = _row + _channel++;
            weights = _weights;
            _weights += TShape.KernelSize * Geometry<TShape>.LinePad;
            return true;
        }
    }

    private struct InputGradientSink<TOps, TVec, TShape> : ITileSink<TVec>
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TShape : IConvShape
    {
        public float* Target;
        public int LastBlock;
        public TVec LastMask;
        public bool LastPartial;

        /// <summary>Floats between the targets of consecutive tile rows: the stride along x, or a sample for dense layers.</summary>
        private static int RowTarget
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Geometry<TShape>.DenseInputGradient ? TShape.InChannels : TShape.Stride * TShape.InChannels;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Initial(int block) => TOps.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Finish(int row, int block, TVec value)
        {
            var target = Target + row * RowTarget + block * TOps.Lanes;
            var partial = block == LastBlock && LastPartial;
            // Windows of neighbouring pixels overlap, so their contributions add up; a dense layer's have one term each.
            if (!Geometry<TShape>.DenseInputGradient) value = TOps.Add(value, partial ? TOps.LoadMasked(target, LastMask) : TOps.Load(target));
            if (partial) TOps.StoreMasked(target, value, LastMask);
            else TOps.Store(target, value);
        }
    }

    private struct InputGradientTile<TShape> : ITileBody where TShape : IConvShape
    {
        public float* Dz, Weights, Target;
        public int LastLanes, FirstKernelRow, KernelRows;

        public void Run<TOps, TVec, TRows, TBlocks>()
            where TOps : IVectorOps<TVec> where TVec : unmanaged where TRows : struct, IConstant where TBlocks : struct, IConstant
        {
            var steps = new InputGradientSteps<TShape>(FirstKernelRow, KernelRows);
            var sink = new InputGradientSink<TOps, TVec, TShape>
            {
                Target = Target, LastBlock = Unsafe.SizeOf<TBlocks>() - 1, LastMask = TOps.FirstLanes(LastLanes), LastPartial = LastLanes < TOps.Lanes,
            };
            RegisterTile.Run<TOps, TVec, TRows, TBlocks, InputGradientSteps<TShape>, InputGradientSink<TOps, TVec, TShape>>(
                Dz, Weights, ref steps, ref sink, LastLanes);
        }
    }

    /// <summary>
    /// Items: one row of one sample's input gradient, which sums the terms of every output row whose windows reach it; or,
    /// for dense layers, one tile of samples × one group of input blocks.
    /// </summary>
    private struct InputGradientJob<TShape> : IParallelJob, IWidthGeneric where TShape : IConvShape
    {
        public float* Dz, Transposed, Dx, PaddedDx;
        public int Count;
        private int _item;

        public readonly int Items()
        {
            if (!Geometry<TShape>.DenseInputGradient) return Count * TShape.InHeight;
            var layout = new ChannelBlocks(Geometry<TShape>.Line, Simd.Lanes);
            return (Count + layout.MaxRows - 1) / layout.MaxRows * layout.Groups;
        }

        public readonly void Execute(int item)
        {
            // The job is shared by the threads: each item runs on its own copy.
            var local = this;
            local._item = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            // Columns of the tile are the taps of one kernel row, in vector blocks.
            var layout = new ChannelBlocks(Geometry<TShape>.Line, TOps.Lanes);
            var tile = new InputGradientTile<TShape> { KernelRows = 1 };
            if (Geometry<TShape>.DenseInputGradient)
            {
                var group = _item % layout.Groups;
                var first = _item / layout.Groups * layout.MaxRows;
                var offset = group * layout.PerTile * TOps.Lanes;
                tile.Dz = Dz + (long)first * TShape.OutChannels;
                tile.Weights = Transposed + offset;
                tile.Target = Dx + (long)first * TShape.InChannels + offset;
                tile.LastLanes = layout.LastLanesOf(group);
                RegisterTile.Dispatch<TOps, TVec, InputGradientTile<TShape>>(Math.Min(layout.MaxRows, Count - first), layout.BlocksOf(group), ref tile);
                return;
            }

            int n = _item / TShape.InHeight, iy = _item % TShape.InHeight, c = TShape.InChannels, s = TShape.Stride;
            var dxRow = Dx + (long)n * Geometry<TShape>.InputLength + iy * TShape.InWidth * c;
            var py = iy + TShape.PadTop; // the row in the zero-bordered image the windows cover
            if (py >= Geometry<TShape>.SourceHeight)
            {
                new Span<float>(dxRow, TShape.InWidth * c).Clear(); // below every window: no term at all
                return;
            }

            var row = Geometry<TShape>.Padded ? PaddedDx + (long)n * Geometry<TShape>.Image + py * Geometry<TShape>.Pitch : dxRow;
            new Span<float>(row, Geometry<TShape>.Pitch).Clear();

            // Output rows oy reach this row with kernel row ky = py - oy·s: from the lowest such oy up, ky grows by s.
            var lastOutputRow = Math.Min(TShape.OutHeight - 1, py / s);
            var firstOutputRow = Math.Max(0, (py - TShape.KernelSize + s) / s);
            if (firstOutputRow <= lastOutputRow)
            {
                tile.FirstKernelRow = py - lastOutputRow * s;
                tile.KernelRows = lastOutputRow - firstOutputRow + 1;
                var dzRow = Dz + ((long)n * TShape.OutHeight + lastOutputRow) * TShape.OutWidth * TShape.OutChannels;

                // Tiles left to right, groups of taps, then pixels: the order every value's terms are added in.
                var (tiles, size, last) = RegisterTile.Split(TShape.OutWidth, layout.MaxRows);
                for (var t = 0; t < tiles; t++)
                {
                    var x0 = t * size;
                    tile.Dz = dzRow + x0 * TShape.OutChannels;
                    for (var g = 0; g < layout.Groups; g++)
                    {
                        var offset = g * layout.PerTile * TOps.Lanes;
                        tile.Weights = Transposed + offset;
                        tile.Target = row + x0 * s * c + offset;
                        tile.LastLanes = layout.LastLanesOf(g);
                        RegisterTile.Dispatch<TOps, TVec, InputGradientTile<TShape>>(t == tiles - 1 ? last : size, layout.BlocksOf(g), ref tile);
                    }
                }
            }

            if (!Geometry<TShape>.Padded) return;
            // dx is the input's part of the zero-bordered row; columns no window reaches get 0.
            var columns = Math.Min(TShape.InWidth, Geometry<TShape>.SourceWidth - TShape.PadLeft);
            new ReadOnlySpan<float>(row + TShape.PadLeft * c, columns * c).CopyTo(new Span<float>(dxRow, columns * c));
            if (columns < TShape.InWidth) new Span<float>(dxRow + columns * c, (TShape.InWidth - columns) * c).Clear();
        }
    }
}

/// <summary>
/// The vector blocks of a row of <c>length</c> floats (output channels, or kernel taps) and how tiles group them:
/// <see cref="PerTile"/> blocks per tile (4, 2 or 1), the last group holding the rest.
/// </summary>
internal readonly struct ChannelBlocks
{
    public ChannelBlocks(int length, int lanes)
    {
        Length = length;
        Lanes = lanes;
        Blocks = (length + lanes - 1) / lanes;
        PerTile = RegisterTile.BlocksPerTile(Blocks);
        Groups = (Blocks + PerTile - 1) / PerTile;
        MaxRows = RegisterTile.MaxRows(lanes, PerTile);
    }

    public int Length { get; }

    public int Lanes { get; }

    public int Blocks { get; }

    public int PerTile { get; }

    public int Groups { get; }

    /// <summary>Rows of a tile with <see cref="PerTile"/> blocks (see <see cref="RegisterTile.MaxRows"/>).</summary>
    public int MaxRows { get; }

    public int BlocksOf(int group) => group == Groups - 1 ? Blocks - group * PerTile : PerTile;

    /// <summary>Lanes of the last block of <paramref name="group"/> that belong to the row.</summary>
    public int LastLanesOf(int group) => group == Groups - 1 ? Length - (Blocks - 1) * Lanes : Lanes;
}

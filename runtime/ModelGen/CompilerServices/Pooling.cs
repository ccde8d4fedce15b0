using System.ComponentModel;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>
/// MaxPool2D and AvgPool2D on the CPU, batch-major and channels last (for generated code only), vectorised over
/// channels. Max pooling is free of data-dependent branches: on real data "is this the new maximum?" is a coin flip, and
/// mispredicted branches cost more than the arithmetic. Its gradient goes to the first maximum of each window (row by
/// row, left to right), as in TensorFlow. Each item is one sample.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class Pooling
{
    /// <summary>y = the largest value of each window.</summary>
    public static void MaxForward<TShape>(in BatchPass pass, ReadOnlySpan<float> x, Span<float> y) where TShape : IPoolShape =>
        Forward<TShape>(pass, x, y, average: false);

    /// <summary>y = the mean of each window.</summary>
    public static void AverageForward<TShape>(in BatchPass pass, ReadOnlySpan<float> x, Span<float> y) where TShape : IPoolShape =>
        Forward<TShape>(pass, x, y, average: true);

    /// <summary>
    /// dx = 0, then each window's dy goes to the window's first maximum, times the derivative of
    /// <typeparamref name="TActivation"/> there: x is the previous layer's activation output, so with its activation as
    /// <typeparamref name="TActivation"/> dx is d(loss)/d(that layer's pre-activation) — one pass over the buffer, not two.
    /// </summary>
    public static void MaxBackward<TShape, TActivation>(in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
        where TShape : IPoolShape where TActivation : IActivationFunction =>
        Backward<TShape, TActivation>(pass, x, dy, dx, average: false);

    /// <summary>
    /// dx = 0, then each window cell gets its window's dy / (PoolSize²), times the derivative of
    /// <typeparamref name="TActivation"/> at the cell (x is needed only for that derivative: empty for Linear).
    /// </summary>
    public static void AverageBackward<TShape, TActivation>(in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
        where TShape : IPoolShape where TActivation : IActivationFunction =>
        Backward<TShape, TActivation>(pass, x, dy, dx, average: true);

    private static int InputLength<TShape>() where TShape : IPoolShape => TShape.InHeight * TShape.InWidth * TShape.Channels;

    private static int OutputLength<TShape>() where TShape : IPoolShape => TShape.OutHeight * TShape.OutWidth * TShape.Channels;

    private static void Forward<TShape>(in BatchPass pass, ReadOnlySpan<float> x, Span<float> y, bool average) where TShape : IPoolShape
    {
        if (x.Length < (long)pass.Count * InputLength<TShape>() || y.Length < (long)pass.Count * OutputLength<TShape>())
        {
            throw Kernels.TooShort(average ? nameof(AverageForward) : nameof(MaxForward));
        }

        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            if (average)
            {
                var job = new ForwardJob<TShape, AverageMode> { X = xp, Y = yp };
                pass.Run(pass.Count, ref job);
            }
            else
            {
                var job = new ForwardJob<TShape, MaxMode> { X = xp, Y = yp };
                pass.Run(pass.Count, ref job);
            }
        }
    }

    private static void Backward<TShape, TActivation>(in BatchPass pass, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool average)
        where TShape : IPoolShape where TActivation : IActivationFunction
    {
        var input = (long)pass.Count * InputLength<TShape>();
        var needsX = !average || TActivation.Function is not (Activation.None or Activation.Softmax);
        if ((needsX && x.Length < input) || dy.Length < (long)pass.Count * OutputLength<TShape>() || dx.Length < input)
        {
            throw Kernels.TooShort(average ? nameof(AverageBackward) : nameof(MaxBackward));
        }

        fixed (float* xp = x)
        fixed (float* dyp = dy)
        fixed (float* dxp = dx)
        {
            if (average)
            {
                var job = new BackwardJob<TShape, AverageMode, TActivation> { X = xp, Dy = dyp, Dx = dxp };
                pass.Run(pass.Count, ref job);
            }
            else
            {
                var job = new BackwardJob<TShape, MaxMode, TActivation> { X = xp, Dy = dyp, Dx = dxp };
                pass.Run(pass.Count, ref job);
            }
        }
    }

    /// <summary>Floats from a window's top-left value to window cell <paramref name="cell"/> (row-major), channel 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CellOffset<TShape>(int cell) where TShape : IPoolShape =>
        (cell / TShape.PoolSize * TShape.InWidth + cell % TShape.PoolSize) * TShape.Channels;

    /// <summary>Max or average, as a type argument: the JIT compiles each mode's loops without a test inside them.</summary>
    private interface IPoolMode
    {
        static abstract bool IsAverage { get; }
    }

    private readonly struct MaxMode : IPoolMode
    {
        public static bool IsAverage => false;
    }

    private readonly struct AverageMode : IPoolMode
    {
        public static bool IsAverage => true;
    }

    /// <summary>Items: one sample. Channel block by channel block (the mask of a partial block is made once), then pixel by pixel.</summary>
    private struct ForwardJob<TShape, TMode> : IParallelJob, IWidthGeneric where TShape : IPoolShape where TMode : IPoolMode
    {
        public float* X, Y;
        private int _sample;

        public readonly void Execute(int item)
        {
            var local = this;
            local._sample = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            int c = TShape.Channels, s = TShape.Stride, cells = TShape.PoolSize * TShape.PoolSize;
            var scale = TOps.Broadcast(1f / cells);
            var x = X + (long)_sample * InputLength<TShape>();
            var y = Y + (long)_sample * OutputLength<TShape>();
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                for (var oy = 0; oy < TShape.OutHeight; oy++)
                {
                    var inRow = x + oy * s * TShape.InWidth * c + ch;
                    var outRow = y + oy * TShape.OutWidth * c + ch;
                    for (var ox = 0; ox < TShape.OutWidth; ox++)
                    {
                        var corner = inRow + ox * s * c;
                        var v = TOps.LoadMasked(corner, mask);
                        for (var cell = 1; cell < cells; cell++)
                        {
                            var next = TOps.LoadMasked(corner + CellOffset<TShape>(cell), mask);
                            v = TMode.IsAverage ? TOps.Add(v, next) : TOps.Max(v, next);
                        }

                        TOps.StoreMasked(outRow + ox * c, TMode.IsAverage ? TOps.Multiply(v, scale) : v, mask);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Items: one sample (its windows may overlap, so one item owns all of its input gradient). Tiling windows multiply
    /// each cell's share by the activation's derivative as they write it; overlapping ones, once all are added up.
    /// </summary>
    private struct BackwardJob<TShape, TMode, TActivation> : IParallelJob, IWidthGeneric
        where TShape : IPoolShape where TMode : IPoolMode where TActivation : IActivationFunction
    {
        public float* X, Dy, Dx;
        private int _sample;

        /// <summary>Zeroes the input columns right of the last window and the rows below it ('valid' pooling leaves them out).</summary>
        private static void ClearUncovered(float* dx)
        {
            int c = TShape.Channels, coveredRows = TShape.OutHeight * TShape.Stride, coveredColumns = TShape.OutWidth * TShape.Stride;
            if (coveredColumns < TShape.InWidth)
            {
                for (var iy = 0; iy < coveredRows; iy++)
                {
                    new Span<float>(dx + (iy * TShape.InWidth + coveredColumns) * c, (TShape.InWidth - coveredColumns) * c).Clear();
                }
            }

            new Span<float>(dx + coveredRows * TShape.InWidth * c, (TShape.InHeight - coveredRows) * TShape.InWidth * c).Clear();
        }

        public readonly void Execute(int item)
        {
            var local = this;
            local._sample = item;
            Simd.Run(ref local);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TVec>() where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            int c = TShape.Channels, s = TShape.Stride, cells = TShape.PoolSize * TShape.PoolSize;
            var scale = TOps.Broadcast(1f / cells);
            var x = X + (long)_sample * InputLength<TShape>();
            var dx = Dx + (long)_sample * InputLength<TShape>();
            var dy = Dy + (long)_sample * OutputLength<TShape>();
            // Windows that tile the input (stride = pool size) each own their cells: the cells are written, not added to,
            // and only the rows and columns no window reaches need clearing. Overlapping windows add up from zero.
            var tiling = TShape.Stride == TShape.PoolSize;
            var activated = TActivation.Function is not (Activation.None or Activation.Softmax);
            if (!tiling) new Span<float>(dx, InputLength<TShape>()).Clear();
            else ClearUncovered(dx);
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                for (var oy = 0; oy < TShape.OutHeight; oy++)
                {
                    for (var ox = 0; ox < TShape.OutWidth; ox++)
                    {
                        var cornerIndex = (oy * s * TShape.InWidth + ox * s) * c + ch;
                        var g = TOps.LoadMasked(dy + (oy * TShape.OutWidth + ox) * c + ch, mask);
                        var target = dx + cornerIndex;
                        if (TMode.IsAverage)
                        {
                            var share = TOps.Multiply(g, scale);
                            for (var cell = 0; cell < cells; cell++)
                            {
                                var offset = CellOffset<TShape>(cell);
                                var at = target + offset;
                                if (!tiling) TOps.StoreMasked(at, TOps.Add(TOps.LoadMasked(at, mask), share), mask);
                                else if (!activated) TOps.StoreMasked(at, share, mask);
                                else TOps.StoreMasked(at, TOps.Multiply(share, ActivationMath.Derivative<TOps, TVec, TActivation>(TOps.LoadMasked(x + cornerIndex + offset, mask))), mask);
                            }

                            continue;
                        }

                        // The window's maximum, then each cell equal to it that no earlier cell claimed takes the gradient.
                        var corner = x + cornerIndex;
                        var m = TOps.LoadMasked(corner, mask);
                        for (var cell = 1; cell < cells; cell++) m = TOps.Max(m, TOps.LoadMasked(corner + CellOffset<TShape>(cell), mask));
                        var taken = TOps.Zero;
                        for (var cell = 0; cell < cells; cell++)
                        {
                            var offset = CellOffset<TShape>(cell);
                            var value = TOps.LoadMasked(corner + offset, mask);
                            var hit = TOps.AndNot(TOps.Equal(value, m), taken);
                            var at = target + offset;
                            var share = TOps.And(g, hit);
                            if (!tiling) TOps.StoreMasked(at, TOps.Add(TOps.LoadMasked(at, mask), share), mask);
                            else if (!activated) TOps.StoreMasked(at, share, mask);
                            else TOps.StoreMasked(at, TOps.Multiply(share, ActivationMath.Derivative<TOps, TVec, TActivation>(value)), mask);
                            taken = TOps.Or(taken, hit);
                        }
                    }
                }
            }

            // Overlapping windows: the derivative once every share is in. Uncovered cells are zero either way.
            if (!tiling && activated) ScaleByDerivative<TOps, TVec>(x, dx, InputLength<TShape>());
        }

        /// <summary>dx *= the activation's derivative at x, over one sample.</summary>
        private static void ScaleByDerivative<TOps, TVec>(float* x, float* dx, int length) where TOps : IVectorOps<TVec> where TVec : unmanaged
        {
            var i = 0;
            for (; i + TOps.Lanes <= length; i += TOps.Lanes)
            {
                TOps.Store(dx + i, TOps.Multiply(TOps.Load(dx + i), ActivationMath.Derivative<TOps, TVec, TActivation>(TOps.Load(x + i))));
            }

            for (; i < length; i++) dx[i] *= Activations.DerivativeFromOutput(TActivation.Function, x[i]);
        }
    }
}

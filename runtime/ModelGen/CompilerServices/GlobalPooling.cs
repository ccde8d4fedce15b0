using System.ComponentModel;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen.CompilerServices;

/// <summary>The constant shape of one GlobalAveragePooling2D layer (for generated code only).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGlobalPoolShape
{
    /// <summary>Pixels per sample of the input (height × width).</summary>
    static abstract int Pixels { get; }

    /// <summary>Channels, in and out.</summary>
    static abstract int Channels { get; }
}

/// <summary>
/// GlobalAveragePooling2D on the CPU, batch-major and channels last (for generated code only): y[n, c] = the mean of
/// channel c over the sample's pixels (summed in pixel order, then divided by their count, as <c>ops.mean</c> does), and
/// its gradient dy[n, c] / pixels to every pixel. Vectorised over channels; each item is one sample.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class GlobalPooling
{
    /// <summary>y = the per-channel mean of x; x [count, Pixels, Channels], y [count, Channels].</summary>
    public static void AverageForward<TShape>(in BatchPass pass, ReadOnlySpan<float> x, Span<float> y) where TShape : IGlobalPoolShape
    {
        if (x.Length < (long)pass.Count * TShape.Pixels * TShape.Channels || y.Length < (long)pass.Count * TShape.Channels)
        {
            throw Kernels.TooShort(nameof(AverageForward));
        }

        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            var job = new Job<TShape> { Image = xp, Vector = yp, Forward = true };
            pass.Run(pass.Count, ref job);
        }
    }

    /// <summary>dx[n, p, c] = dy[n, c] / Pixels for every pixel p (written, not added).</summary>
    public static void AverageBackward<TShape>(in BatchPass pass, ReadOnlySpan<float> dy, Span<float> dx) where TShape : IGlobalPoolShape
    {
        if (dx.Length < (long)pass.Count * TShape.Pixels * TShape.Channels || dy.Length < (long)pass.Count * TShape.Channels)
        {
            throw Kernels.TooShort(nameof(AverageBackward));
        }

        fixed (float* dyp = dy)
        fixed (float* dxp = dx)
        {
            var job = new Job<TShape> { Image = dxp, Vector = dyp, Forward = false };
            pass.Run(pass.Count, ref job);
        }
    }

    /// <summary>Items: one sample; forward reads the image and writes the vector, backward the other way round.</summary>
    private struct Job<TShape> : IParallelJob, IWidthGeneric where TShape : IGlobalPoolShape
    {
        public float* Image, Vector;
        public bool Forward;
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
            int c = TShape.Channels, pixels = TShape.Pixels;
            var image = Image + (long)_sample * pixels * c;
            var vector = Vector + (long)_sample * c;
            var count = TOps.Broadcast(pixels);
            for (var ch = 0; ch < c; ch += TOps.Lanes)
            {
                var mask = TOps.FirstLanes(Math.Min(TOps.Lanes, c - ch));
                if (Forward)
                {
                    var total = TOps.Zero;
                    for (var p = 0; p < pixels; p++) total = TOps.Add(total, TOps.LoadMasked(image + (long)p * c + ch, mask));
                    TOps.StoreMasked(vector + ch, TOps.Divide(total, count), mask);
                }
                else
                {
                    var share = TOps.Divide(TOps.LoadMasked(vector + ch, mask), count);
                    for (var p = 0; p < pixels; p++) TOps.StoreMasked(image + (long)p * c + ch, share, mask);
                }
            }
        }
    }
}

using ModelGen.CompilerServices;

namespace ModelGen.Numerics.Tests.Kernels;

// Layer shapes for the kernel tests, chosen for the paths of the kernels: vector tails (6, 33, 40 channels), 'same'
// padding with odd totals, strides with gaps and leftovers, one-pixel outputs, single-channel inputs, dense layers with
// fewer units than lanes and with several column groups.

/// <summary>LeNet-5's first convolution: 28x28x1, 5x5 'same', 6 filters.</summary>
public readonly struct LeNetFirst : IConvShape
{
    public static int InHeight => 28; public static int InWidth => 28; public static int InChannels => 1;
    public static int OutHeight => 28; public static int OutWidth => 28; public static int OutChannels => 6;
    public static int KernelSize => 5; public static int Stride => 1; public static int PadTop => 2; public static int PadLeft => 2;
}

/// <summary>LeNet-5's second convolution: 14x14x6, 5x5 'same', 16 filters.</summary>
public readonly struct LeNetSecond : IConvShape
{
    public static int InHeight => 14; public static int InWidth => 14; public static int InChannels => 6;
    public static int OutHeight => 14; public static int OutWidth => 14; public static int OutChannels => 16;
    public static int KernelSize => 5; public static int Stride => 1; public static int PadTop => 2; public static int PadLeft => 2;
}

/// <summary>9x11x1, 3x3 'valid' stride 2 (4x5 out), 5 filters: one channel but strided, so on the channel path.</summary>
public readonly struct OneChannelStride2 : IConvShape
{
    public static int InHeight => 9; public static int InWidth => 11; public static int InChannels => 1;
    public static int OutHeight => 4; public static int OutWidth => 5; public static int OutChannels => 5;
    public static int KernelSize => 3; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0;
}

/// <summary>7x7x1, 3x3 'same', 8 filters: interleaved on 512-bit vectors only (two pixels a vector).</summary>
public readonly struct OneChannelEight : IConvShape
{
    public static int InHeight => 7; public static int InWidth => 7; public static int InChannels => 1;
    public static int OutHeight => 7; public static int OutWidth => 7; public static int OutChannels => 8;
    public static int KernelSize => 3; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1;
}

/// <summary>5x6x1, 2x2 'valid' (4x5 out), 2 filters: interleaved at every width, unpadded (a copy with slack is read).</summary>
public readonly struct OneChannelTwo : IConvShape
{
    public static int InHeight => 5; public static int InWidth => 6; public static int InChannels => 1;
    public static int OutHeight => 4; public static int OutWidth => 5; public static int OutChannels => 2;
    public static int KernelSize => 2; public static int Stride => 1; public static int PadTop => 0; public static int PadLeft => 0;
}

/// <summary>3x40x1, 3x3 'same', 7 filters: a long interleaved row (280 floats) with a channel pattern of period 7.</summary>
public readonly struct OneChannelSeven : IConvShape
{
    public static int InHeight => 3; public static int InWidth => 40; public static int InChannels => 1;
    public static int OutHeight => 3; public static int OutWidth => 40; public static int OutChannels => 7;
    public static int KernelSize => 3; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1;
}

/// <summary>9x9x3, 3x3 'same' with stride 2 (5x5 out, one row and column of padding on each side), 33 filters.</summary>
public readonly struct SameStride2 : IConvShape
{
    public static int InHeight => 9; public static int InWidth => 9; public static int InChannels => 3;
    public static int OutHeight => 5; public static int OutWidth => 5; public static int OutChannels => 33;
    public static int KernelSize => 3; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1;
}

/// <summary>8x7x2, 4x4 'same' stride 1: the odd extra padding goes bottom and right (top 1, left 1), 3 filters.</summary>
public readonly struct SameEven : IConvShape
{
    public static int InHeight => 8; public static int InWidth => 7; public static int InChannels => 2;
    public static int OutHeight => 8; public static int OutWidth => 7; public static int OutChannels => 3;
    public static int KernelSize => 4; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1;
}

/// <summary>10x11x2, 4x4 'valid' with stride 3: rows and columns left over at the bottom and right, 5 filters.</summary>
public readonly struct ValidStride3 : IConvShape
{
    public static int InHeight => 10; public static int InWidth => 11; public static int InChannels => 2;
    public static int OutHeight => 3; public static int OutWidth => 3; public static int OutChannels => 5;
    public static int KernelSize => 4; public static int Stride => 3; public static int PadTop => 0; public static int PadLeft => 0;
}

/// <summary>5x5x4, 5x5 'valid': one output pixel per sample, 7 filters.</summary>
public readonly struct OnePixel : IConvShape
{
    public static int InHeight => 5; public static int InWidth => 5; public static int InChannels => 4;
    public static int OutHeight => 1; public static int OutWidth => 1; public static int OutChannels => 7;
    public static int KernelSize => 5; public static int Stride => 1; public static int PadTop => 0; public static int PadLeft => 0;
}

/// <summary>4x30x9, 3x3 'same': rows wider than a tile, 40 filters (several channel blocks, a partial last one).</summary>
public readonly struct WideRows : IConvShape
{
    public static int InHeight => 4; public static int InWidth => 30; public static int InChannels => 9;
    public static int OutHeight => 4; public static int OutWidth => 30; public static int OutChannels => 40;
    public static int KernelSize => 3; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1;
}

/// <summary>1x1x3, 3x3 'same': a kernel larger than the image, all but its centre on padding.</summary>
public readonly struct PaddedPixel : IConvShape
{
    public static int InHeight => 1; public static int InWidth => 1; public static int InChannels => 3;
    public static int OutHeight => 1; public static int OutWidth => 1; public static int OutChannels => 2;
    public static int KernelSize => 3; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1;
}

/// <summary>LeNet-5's first dense layer: 784 → 120.</summary>
public readonly struct Dense784 : IDenseShape { public static int Inputs => 784; public static int Units => 120; }

/// <summary>7 → 3: fewer units than lanes.</summary>
public readonly struct Dense7 : IDenseShape { public static int Inputs => 7; public static int Units => 3; }

/// <summary>50 → 1.</summary>
public readonly struct Dense50 : IDenseShape { public static int Inputs => 50; public static int Units => 1; }

/// <summary>100 → 70: several column groups, a partial last block.</summary>
public readonly struct Dense100 : IDenseShape { public static int Inputs => 100; public static int Units => 70; }

/// <summary>LeNet-5's pooling: 28x28x6, 2x2.</summary>
public readonly struct Pool2 : IPoolShape
{
    public static int InHeight => 28; public static int InWidth => 28; public static int Channels => 6;
    public static int OutHeight => 14; public static int OutWidth => 14; public static int PoolSize => 2; public static int Stride => 2;
}

/// <summary>7x8x17, 3x3 with stride 2: overlapping windows, a column left over, 17 channels (a partial vector).</summary>
public readonly struct Pool3Stride2 : IPoolShape
{
    public static int InHeight => 7; public static int InWidth => 8; public static int Channels => 17;
    public static int OutHeight => 3; public static int OutWidth => 3; public static int PoolSize => 3; public static int Stride => 2;
}

/// <summary>5x5x1, 5x5: one window covering the image.</summary>
public readonly struct PoolWhole : IPoolShape
{
    public static int InHeight => 5; public static int InWidth => 5; public static int Channels => 1;
    public static int OutHeight => 1; public static int OutWidth => 1; public static int PoolSize => 5; public static int Stride => 5;
}

using ModelGen.Numerics.Tests.Reference;

namespace ModelGen.Numerics.Tests.Models;

// Multi-layer networks. Every layer whose d(loss)/d(input) path is under test has a layer with parameters before it, so
// the generated code must compute that path and the gradients of the earlier parameters depend on it.

[Sequential(12, 11, 2)]
[Conv2D(4, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Conv2D(5, 3, Activation = Activation.Relu)]
[AvgPool2D(2)]
[Flatten]
[Dense(8, Activation = Activation.Tanh)]
[Dense(4, Activation = Activation.Softmax)]
public partial class SmallConvNet
{
    // 12x11x4 -> 6x5x4 -> 4x3x5 -> 2x1x5 -> 10 -> 8 -> 4
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(12, 11, 2)
        .Conv(4, 3, padding: Padding.Same, activation: Activation.Tanh)
        .MaxPool(2)
        .Conv(5, 3, activation: Activation.Relu)
        .AvgPool(2)
        .Flatten()
        .Dense(8, Activation.Tanh)
        .Dense(4, Activation.Softmax);
}

[Sequential(13, 12, 2)]
[Conv2D(3, 1, Activation = Activation.Tanh)]
[Conv2D(3, 3, Stride = 2, Padding = Padding.Same, Activation = Activation.Relu)]
[Conv2D(4, 3, Stride = 3, Activation = Activation.Sigmoid)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class ConvStrideChain
{
    // 1x1 conv, then 'same' stride 2: 13x12 -> 7x6, rows padded 1/1, columns 0 left / 1 right (only the odd extra);
    // then 'valid' stride 3: 7x6 -> 2x2.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(13, 12, 2)
        .Conv(3, 1, activation: Activation.Tanh)
        .Conv(3, 3, stride: 2, padding: Padding.Same, activation: Activation.Relu)
        .Conv(4, 3, stride: 3, activation: Activation.Sigmoid)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(10, 9, 2)]
[Conv2D(3, 2, Activation = Activation.Sigmoid)]
[Conv2D(2, 8, Padding = Padding.Same, Activation = Activation.Tanh)]
[Conv2D(2, 8)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class ConvLargeKernelChain
{
    // 8x8 kernels are loops: 'same' 9x8 -> 9x8 (padding 3/4 both ways), then 'valid' 9x8 -> 2x1.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(10, 9, 2)
        .Conv(3, 2, activation: Activation.Sigmoid)
        .Conv(2, 8, padding: Padding.Same, activation: Activation.Tanh)
        .Conv(2, 8)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(11, 9, 2)]
[Conv2D(3, 2, Activation = Activation.Tanh)]
[Conv2D(2, 9, Stride = 2, Padding = Padding.Same)]
[Conv2D(3, 4, Stride = 3, Activation = Activation.Relu)]
[Flatten]
[Dense(2, Activation = Activation.Softmax)]
public partial class ConvLargeKernelStrided
{
    // 10x8 -> 'same' stride 2 with a 9x9 kernel: 5x4 (padding rows 3/4, columns 3/4) -> 'valid' 4x4 stride 3: 1x1.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(11, 9, 2)
        .Conv(3, 2, activation: Activation.Tanh)
        .Conv(2, 9, stride: 2, padding: Padding.Same)
        .Conv(3, 4, stride: 3, activation: Activation.Relu)
        .Flatten()
        .Dense(2, Activation.Softmax);
}

[Sequential(12, 12, 2)]
[Conv2D(3, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Conv2D(4, 2, Activation = Activation.Sigmoid)]
[MaxPool2D(3, Stride = 1)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class MaxPoolChain
{
    // 12x12x3 -> 6x6x3 -> 5x5x4 -> 3x3x4 (overlapping windows: a cell can win several) -> 36 -> 3
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(12, 12, 2)
        .Conv(3, 3, padding: Padding.Same, activation: Activation.Tanh)
        .MaxPool(2)
        .Conv(4, 2, activation: Activation.Sigmoid)
        .MaxPool(3, stride: 1)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(13, 11, 2)]
[Conv2D(3, 3, Activation = Activation.Tanh)]
[MaxPool2D(5, Stride = 2)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class MaxPoolLarge
{
    // 11x9x3 -> 5x5 windows (a loop), stride 2: 4x3x3
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(13, 11, 2)
        .Conv(3, 3, activation: Activation.Tanh)
        .MaxPool(5, stride: 2)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(11, 12, 2)]
[Conv2D(3, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[AvgPool2D(2)]
[Conv2D(3, 2, Activation = Activation.Tanh)]
[AvgPool2D(3, Stride = 1)]
[Flatten]
[Dense(4, Activation = Activation.Softmax)]
public partial class AvgPoolChain
{
    // 11x12x3 -> 5x6x3 -> 4x5x3 -> 2x3x3 (overlapping) -> 18 -> 4
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(11, 12, 2)
        .Conv(3, 3, padding: Padding.Same, activation: Activation.Relu)
        .AvgPool(2)
        .Conv(3, 2, activation: Activation.Tanh)
        .AvgPool(3, stride: 1)
        .Flatten()
        .Dense(4, Activation.Softmax);
}

[Sequential(10, 9, 2)]
[Conv2D(3, 2, Activation = Activation.Sigmoid)]
[AvgPool2D(5, Stride = 2)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class AvgPoolLarge
{
    // 9x8x3 -> 5x5 windows (a loop), stride 2: 3x2x3
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(10, 9, 2)
        .Conv(3, 2, activation: Activation.Sigmoid)
        .AvgPool(5, stride: 2)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(10, 10, 2)]
[MaxPool2D(2)]
[Conv2D(3, 3, Activation = Activation.Tanh)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class MaxPoolFirst
{
    // The pool reads the network input and needs no d(input); the convolution after it reads the pool's output.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(10, 10, 2)
        .MaxPool(2)
        .Conv(3, 3, activation: Activation.Tanh)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(9, 9, 2)]
[AvgPool2D(3, Stride = 1)]
[Conv2D(3, 3, Activation = Activation.Relu)]
[MaxPool2D(2)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class AvgPoolFirst
{
    // 7x7x2 -> 5x5x3 -> 2x2x3 -> 12 -> 3
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(9, 9, 2)
        .AvgPool(3, stride: 1)
        .Conv(3, 3, activation: Activation.Relu)
        .MaxPool(2)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(5, 6, 2)]
[Conv2D(3, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[Conv2D(2, 3)]
public partial class ConvImageLogits
{
    // The last layer is an image: its 3x4x2 = 24 values are the logits.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(5, 6, 2)
        .Conv(3, 3, padding: Padding.Same, activation: Activation.Relu)
        .Conv(2, 3);
}

[Sequential(6, 6, 2)]
[Conv2D(3, 3, Activation = Activation.Tanh)]
[Conv2D(4, 4, Activation = Activation.Softmax)]
public partial class ConvSoftmaxChain
{
    // 4x4x3 -> 1x1x4 softmax
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(6, 6, 2)
        .Conv(3, 3, activation: Activation.Tanh)
        .Conv(4, 4, activation: Activation.Softmax);
}

[Sequential(6, 6, 2)]
[Conv2D(3, 3, Padding = Padding.Same)]
[MaxPool2D(3)]
public partial class PoolLast
{
    // A max pool is the last layer: its 2x2x3 outputs are the logits.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(6, 6, 2)
        .Conv(3, 3, padding: Padding.Same)
        .MaxPool(3);
}

[Sequential(7, 6, 2)]
[Conv2D(3, 2, Activation = Activation.Relu)]
[MaxPool2D(2, Stride = 1)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class MaxPool2Stride1
{
    // 6x5x3 -> overlapping 2x2 windows, stride 1: 5x4x3 -> 60 -> 3
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(7, 6, 2)
        .Conv(3, 2, activation: Activation.Relu)
        .MaxPool(2, stride: 1)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(4, 21, 3)]
[Conv2D(3, 3, Activation = Activation.Sigmoid)]
[Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
[Conv2D(3, 2)]
[Flatten]
[Dense(2, Activation = Activation.Softmax)]
public partial class WideConvChain
{
    // Wide rows (19 output columns: a full vector tile and a ragged tail), channel counts that are not multiples of 4,
    // and a 'same' 5x5 kernel taller than its 2-row input. 2x19x3 -> 2x19x6 -> 1x18x3 -> 54 -> 2
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(4, 21, 3)
        .Conv(3, 3, activation: Activation.Sigmoid)
        .Conv(6, 5, padding: Padding.Same, activation: Activation.Tanh)
        .Conv(3, 2)
        .Flatten()
        .Dense(2, Activation.Softmax);
}

[Sequential(14, 13, 2)]
[Conv2D(1, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[Conv2D(3, 2, Stride = 3, Padding = Padding.Same, Activation = Activation.Relu)]
[MaxPool2D(2, Stride = 3)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class GappedStrides
{
    // Strides larger than the window skip pixels. A single filter first (14x13x1); then 'same' stride 3 with a 2x2 kernel:
    // ceil(14/3) x ceil(13/3) = 5x5, padding rows 0/0, columns 0 left / 1 right; then 2x2 pools 3 apart: 2x2x3 -> 12 -> 3.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(14, 13, 2)
        .Conv(1, 3, padding: Padding.Same, activation: Activation.Tanh)
        .Conv(3, 2, stride: 3, padding: Padding.Same, activation: Activation.Relu)
        .MaxPool(2, stride: 3)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(13, 14, 2)]
[Conv2D(2, 2, Stride = 3, Activation = Activation.Sigmoid)]
[AvgPool2D(2, Stride = 3)]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class GappedAvgPool
{
    // 'valid' stride 3 with a 2x2 kernel: 4x5x2; 2x2 average pools 3 apart: 1x2x2 -> 4 -> 3
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(13, 14, 2)
        .Conv(2, 2, stride: 3, activation: Activation.Sigmoid)
        .AvgPool(2, stride: 3)
        .Flatten()
        .Dense(3, Activation.Softmax);
}

[Sequential(1, 1, 5)]
[Conv2D(4, 1, Activation = Activation.Relu)]
[Conv2D(3, 1, Padding = Padding.Same, Activation = Activation.Softmax)]
public partial class SinglePixel
{
    // A 1x1 image: 1x1 convolutions are dense layers over the channels.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(1, 1, 5)
        .Conv(4, 1, activation: Activation.Relu)
        .Conv(3, 1, padding: Padding.Same, activation: Activation.Softmax);
}

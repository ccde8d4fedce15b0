using ModelGen.Numerics.Tests.Reference;

namespace ModelGen.Numerics.Tests.Models;

// One-layer networks: each layer type, padding, stride, activation and code path (written-out windows and loops) alone.
// Each class carries its reference network, written out by hand from the Keras rules beside the attributes it mirrors.

[Sequential(7, 9, 3)]
[Conv2D(4, 3)]
public partial class ConvValid
{
    // valid: out = floor((in - k) / s) + 1 = 5 x 7
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(7, 9, 3).Conv(4, 3);
}

[Sequential(8, 7, 2)]
[Conv2D(5, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
public partial class ConvSameTanh
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(8, 7, 2).Conv(5, 3, padding: Padding.Same, activation: Activation.Tanh);
}

[Sequential(9, 8, 3)]
[Conv2D(4, 4, Stride = 2, Padding = Padding.Same, Activation = Activation.Relu)]
public partial class ConvSameStride2Relu
{
    // out = ceil(9/2) x ceil(8/2) = 5 x 4; rows padded 1 top, 2 bottom (the odd extra goes bottom), columns 1 and 1.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(9, 8, 3).Conv(4, 4, stride: 2, padding: Padding.Same, activation: Activation.Relu);
}

[Sequential(11, 13, 2)]
[Conv2D(3, 3, Stride = 3, Activation = Activation.Sigmoid)]
public partial class ConvStride3ValidSigmoid
{
    // out = (11-3)/3+1 x (13-3)/3+1 = 3 x 4; the last input rows/columns are not visited.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(11, 13, 2).Conv(3, 3, stride: 3, activation: Activation.Sigmoid);
}

[Sequential(12, 10, 2)]
[Conv2D(3, 9, Activation = Activation.Tanh)]
public partial class ConvLargeKernelValid
{
    // A 9x9 kernel is a loop, not written out. out = 4 x 2.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(12, 10, 2).Conv(3, 9, activation: Activation.Tanh);
}

[Sequential(6, 5, 2)]
[Conv2D(2, 8, Padding = Padding.Same)]
public partial class ConvLargeKernelSame
{
    // An 8x8 kernel over a 6x5 image ('same' allows it): padding 3 top, 4 bottom, 3 left, 4 right.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(6, 5, 2).Conv(2, 8, padding: Padding.Same);
}

[Sequential(9, 7, 2)]
[Conv2D(3, 8, Stride = 2, Padding = Padding.Same, Activation = Activation.Sigmoid)]
public partial class ConvLargeKernelSameStride2
{
    // out = 5 x 4; padding rows 3/4, columns 3/4.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(9, 7, 2).Conv(3, 8, stride: 2, padding: Padding.Same, activation: Activation.Sigmoid);
}

[Sequential(5, 5, 2)]
[Conv2D(4, 5, Activation = Activation.Softmax)]
public partial class ConvSoftmax
{
    // 1 x 1 x 4 output: softmax over the channels, as Keras computes it.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(5, 5, 2).Conv(4, 5, activation: Activation.Softmax);
}

[Sequential(9, 7, 3)]
[MaxPool2D(2)]
public partial class MaxPool2Only
{
    // stride defaults to the pool size: out = 4 x 3 (last row and column dropped).
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(9, 7, 3).MaxPool(2);
}

[Sequential(8, 9, 2)]
[MaxPool2D(3, Stride = 1)]
public partial class MaxPool3Stride1Only
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(8, 9, 2).MaxPool(3, stride: 1);
}

[Sequential(11, 12, 2)]
[MaxPool2D(5, Stride = 2)]
public partial class MaxPool5Only
{
    // 25 cells: the window is a loop. out = 4 x 4.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(11, 12, 2).MaxPool(5, stride: 2);
}

[Sequential(7, 9, 3)]
[AvgPool2D(2)]
public partial class AvgPool2Only
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(7, 9, 3).AvgPool(2);
}

[Sequential(9, 8, 2)]
[AvgPool2D(3, Stride = 2)]
public partial class AvgPool3Stride2Only
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(9, 8, 2).AvgPool(3, stride: 2);
}

[Sequential(7, 8, 2)]
[AvgPool2D(5, Stride = 1)]
public partial class AvgPool5Only
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(7, 8, 2).AvgPool(5, stride: 1);
}

[Sequential(13)]
[Dense(7)]
public partial class DenseFlat
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(13).Dense(7);
}

[Sequential(10)]
[Dense(9, Activation = Activation.Tanh)]
[Dense(8, Activation = Activation.Relu)]
[Dense(7, Activation = Activation.Sigmoid)]
[Dense(6)]
[Dense(5, Activation = Activation.Softmax)]
public partial class MlpAllActivations
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(10)
        .Dense(9, Activation.Tanh).Dense(8, Activation.Relu).Dense(7, Activation.Sigmoid).Dense(6).Dense(5, Activation.Softmax);
}

[Sequential(6)]
[Dense(5, Activation = Activation.Sigmoid)]
[Dense(3)]
public partial class MlpLogits
{
    // No softmax: the outputs are the logits of the loss.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(6).Dense(5, Activation.Sigmoid).Dense(3);
}

[Sequential(3, 4, 5)]
[Flatten]
[Dense(6, Activation = Activation.Relu)]
[Dense(4, Activation = Activation.Softmax)]
public partial class FlattenDense
{
    // 3, 4 and 5 all differ, so any other flatten order than (y·W + x)·C + c gives different results.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(3, 4, 5).Flatten().Dense(6, Activation.Relu).Dense(4, Activation.Softmax);
}

[Sequential(3, 4, 5)]
[Flatten]
[Dense(1)]
public partial class FlattenProbe
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(3, 4, 5).Flatten().Dense(1);
}

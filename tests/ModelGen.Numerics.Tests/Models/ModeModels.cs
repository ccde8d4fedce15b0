using ModelGen.Numerics.Tests.Reference;

namespace ModelGen.Numerics.Tests.Models;

// Networks with the layers that compute differently in training and inference (BatchNormalization, Dropout) and with
// GlobalAveragePooling2D: each alone after a layer with parameters (so its input gradient is checked), first (so it has
// none), on images and on vectors, with default and custom arguments, and all of them together.

[Sequential(6, 5, 3)]
[Conv2D(4, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[BatchNormalization]
[Flatten]
[Dense(3, Activation = Activation.Softmax)]
public partial class BatchNormConv
{
    // Per channel of the 6x5x4 image: 4 gammas, betas, moving means and variances.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(6, 5, 3)
        .Conv(4, 3, padding: Padding.Same, activation: Activation.Tanh).BatchNorm().Flatten().Dense(3, Activation.Softmax);
}

[Sequential(4, 5, 2)]
[BatchNormalization(Momentum = 0.9, Epsilon = 0.01)]
[Conv2D(3, 3, Activation = Activation.Sigmoid)]
[Flatten]
[Dense(2)]
public partial class BatchNormFirst
{
    // No layer with parameters before it: its gamma and beta have gradients, its input none.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(4, 5, 2)
        .BatchNorm(momentum: 0.9, epsilon: 0.01).Conv(3, 3, activation: Activation.Sigmoid).Flatten().Dense(2);
}

[Sequential(7)]
[Dense(6, Activation = Activation.Relu)]
[BatchNormalization]
[Dense(4, Activation = Activation.Softmax)]
public partial class BatchNormDense
{
    // Per unit of a vector: the statistics of each unit over the batch's samples.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(7).Dense(6, Activation.Relu).BatchNorm().Dense(4, Activation.Softmax);
}

[Sequential(9)]
[Dense(8, Activation = Activation.Tanh)]
[Dropout(0.4)]
[Dense(3, Activation = Activation.Softmax)]
public partial class DropoutDense
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(9).Dense(8, Activation.Tanh).Dropout(0.4).Dense(3, Activation.Softmax);
}

[Sequential(5, 6, 2)]
[Conv2D(3, 3, Activation = Activation.Relu)]
[Dropout(0.3)]
[MaxPool2D(2)]
[Flatten]
[Dense(3)]
public partial class DropoutImage
{
    // 3x4x3 after the convolution: each of the 36 values of a sample has a mask bit of its own.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(5, 6, 2)
        .Conv(3, 3, activation: Activation.Relu).Dropout(0.3).MaxPool(2).Flatten().Dense(3);
}

[Sequential(6)]
[Dropout(0.5)]
[Dense(3, Activation = Activation.Softmax)]
public partial class DropoutFirst
{
    // Dropout before any parameters: it runs forward only.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(6).Dropout(0.5).Dense(3, Activation.Softmax);
}

[Sequential(6, 7, 2)]
[Conv2D(5, 3, Padding = Padding.Same, Activation = Activation.Sigmoid)]
[GlobalAveragePooling2D]
[Dense(3, Activation = Activation.Softmax)]
public partial class GlobalPoolNet
{
    // 6x7x5 -> 5: the mean of each channel over 42 pixels.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(6, 7, 2)
        .Conv(5, 3, padding: Padding.Same, activation: Activation.Sigmoid).GlobalAveragePool().Dense(3, Activation.Softmax);
}

[Sequential(4, 5, 3)]
[Conv2D(4, 3)]
[GlobalAveragePooling2D]
public partial class GlobalPoolLast
{
    // The pooled channels are the logits.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(4, 5, 3).Conv(4, 3).GlobalAveragePool();
}

[Sequential(10, 9, 1)]
[Conv2D(4, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[BatchNormalization]
[MaxPool2D(2)]
[Dropout(0.25)]
[Conv2D(6, 2, Activation = Activation.Relu)]
[BatchNormalization]
[GlobalAveragePooling2D]
[Dense(5, Activation = Activation.Tanh)]
[BatchNormalization]
[Dropout(0.5)]
[Dense(3, Activation = Activation.Softmax)]
public partial class ModeNet
{
    // 10x9x4 -> pool 5x4x4 -> 4x3x6 -> 6 -> 5 -> 3: three BatchNormalization layers (two on images, one on a vector) and two
    // Dropout layers, so the moving statistics of several layers and masks of several layers are in play at once. (Tanh,
    // not ReLU, before the max pool: BatchNormalization maps a ReLU's exact zeros to one value, so pool windows would tie,
    // which the finite differences cannot tell from a switch.)
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(10, 9, 1)
        .Conv(4, 3, padding: Padding.Same, activation: Activation.Tanh).BatchNorm().MaxPool(2).Dropout(0.25)
        .Conv(6, 2, activation: Activation.Relu).BatchNorm().GlobalAveragePool()
        .Dense(5, Activation.Tanh).BatchNorm().Dropout(0.5).Dense(3, Activation.Softmax);
}

[Sequential(64)]
[Dropout(0.3)]
public partial class DropoutOnly
{
    // The mask itself is the output: kept values divided by 0.7, dropped ones 0.
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(64).Dropout(0.3);
}

using ModelGen.Numerics.Tests.Reference;

namespace ModelGen.Numerics.Tests.Models;

// LeNet-5 as in the Keras tutorial's code (both convolutions 'same'), and as in its prose (second convolution 'valid').

[Sequential(28, 28, 1)]
[Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Conv2D(16, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Flatten]
[Dense(120, Activation = Activation.Tanh)]
[Dense(84, Activation = Activation.Tanh)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(28, 28, 1)
        .Conv(6, 5, padding: Padding.Same, activation: Activation.Tanh)
        .MaxPool(2)
        .Conv(16, 5, padding: Padding.Same, activation: Activation.Tanh)
        .MaxPool(2)
        .Flatten()
        .Dense(120, Activation.Tanh)
        .Dense(84, Activation.Tanh)
        .Dense(10, Activation.Softmax);
}

[Sequential(28, 28, 1)]
[Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Flatten]
[Dense(120, Activation = Activation.Tanh)]
[Dense(84, Activation = Activation.Tanh)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5Valid
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(28, 28, 1)
        .Conv(6, 5, padding: Padding.Same, activation: Activation.Tanh)
        .MaxPool(2)
        .Conv(16, 5, activation: Activation.Tanh)
        .MaxPool(2)
        .Flatten()
        .Dense(120, Activation.Tanh)
        .Dense(84, Activation.Tanh)
        .Dense(10, Activation.Softmax);
}

// Networks whose parameter counts are worked out by hand in ParameterCountTests.

[Sequential(32, 32, 3)]
[Conv2D(8, 3, Stride = 2)]
[Flatten]
[Dense(10)]
public partial class StridedConvNet
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(32, 32, 3).Conv(8, 3, stride: 2).Flatten().Dense(10);
}

[Sequential(28, 28, 1)]
[Conv2D(4, 5, Stride = 2, Padding = Padding.Same, Activation = Activation.Relu)]
[Flatten]
[Dense(10, Activation = Activation.Softmax)]
public partial class SameStride2Net
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(28, 28, 1)
        .Conv(4, 5, stride: 2, padding: Padding.Same, activation: Activation.Relu).Flatten().Dense(10, Activation.Softmax);
}

[Sequential(16, 16, 3)]
[Conv2D(6, 3, Padding = Padding.Same, Activation = Activation.Tanh)]
[AvgPool2D(2)]
[Flatten]
[Dense(5, Activation = Activation.Softmax)]
public partial class AvgPoolNet
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(16, 16, 3)
        .Conv(6, 3, padding: Padding.Same, activation: Activation.Tanh).AvgPool(2).Flatten().Dense(5, Activation.Softmax);
}

[Sequential(13, 11, 2)]
[Conv2D(5, 4, Activation = Activation.Relu)]
[MaxPool2D(3)]
[Flatten]
[Dense(7, Activation = Activation.Softmax)]
public partial class OddSizesNet
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Image(13, 11, 2)
        .Conv(5, 4, activation: Activation.Relu).MaxPool(3).Flatten().Dense(7, Activation.Softmax);
}

[Sequential(784)]
[Dense(128, Activation = Activation.Relu)]
[Dense(64, Activation = Activation.Relu)]
[Dense(10, Activation = Activation.Softmax)]
public partial class Mlp784
{
    internal static ReferenceNetwork Reference => ReferenceNetwork.Flat(784)
        .Dense(128, Activation.Relu).Dense(64, Activation.Relu).Dense(10, Activation.Softmax);
}

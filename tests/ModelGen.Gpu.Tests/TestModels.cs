using ModelGen;

namespace ModelGen.Gpu.Tests;

// Small networks that together cover every layer kind, padding, stride and activation the GPU emitter writes.

/// Conv2D 'same' (odd kernel, relu) feeding a strided 'valid' conv (tanh), an overlapping max pool (stride 1 < pool 2),
/// Flatten, Dense sigmoid and a softmax output.
[Sequential(7, 7, 2)]
[Conv2D(3, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[Conv2D(4, 3, Stride = 2, Activation = Activation.Tanh)]
[MaxPool2D(2, Stride = 1)]
[Flatten]
[Dense(5, Activation = Activation.Sigmoid)]
[Dense(3, Activation = Activation.Softmax)]
public partial class ConvStack;

/// 'same' padding everywhere: stride 2 with padding on both sides (top/left 1), an overlapping average pool, an
/// even-sized kernel with the extra padding bottom/right (sigmoid), a stride-2 even kernel with padding (no activation)
/// whose input gradient crosses the padding, and a tanh Dense output read as logits (no softmax layer).
[Sequential(9, 9, 1)]
[Conv2D(2, 3, Stride = 2, Padding = Padding.Same)]
[AvgPool2D(2, Stride = 1)]
[Conv2D(3, 2, Padding = Padding.Same, Activation = Activation.Sigmoid)]
[Conv2D(2, 4, Stride = 2, Padding = Padding.Same)]
[Flatten]
[Dense(4, Activation = Activation.Tanh)]
public partial class PaddedStack;

/// Pooling before the first layer with parameters (no input gradient needed there), a max pool whose last row and
/// column are not covered (valid pooling of an odd size), and Dense layers with relu, none and softmax.
[Sequential(9, 9, 2)]
[AvgPool2D(2, Stride = 1)]
[MaxPool2D(3, Stride = 2)]
[Conv2D(3, 2, Activation = Activation.Relu)]
[Flatten]
[Dense(6, Activation = Activation.Relu)]
[Dense(5)]
[Dense(4, Activation = Activation.Softmax)]
public partial class PoolFirst;

/// A flat input straight into Dense layers.
[Sequential(6)]
[Dense(5, Activation = Activation.Tanh)]
[Dense(3, Activation = Activation.Softmax)]
public partial class DenseOnly;

/// No parameters at all: pooling and a flatten whose outputs are the logits.
[Sequential(4, 4, 2)]
[MaxPool2D(2)]
[Flatten]
public partial class NoParameters;

/// LeNet-5 as in the Keras tutorial's code (both convolutions 'same', 107,786 parameters).
[Sequential(28, 28, 1)]
[Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Conv2D(16, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
[MaxPool2D(2)]
[Flatten]
[Dense(120, Activation = Activation.Tanh)]
[Dense(84, Activation = Activation.Tanh)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5;

/// BatchNormalization per channel after a relu convolution and per unit after a relu Dense (Momentum 0.9), Dropout on
/// an image and on a vector (relu before each normalization: a bias straight before one has a zero gradient in training): training mode (batch statistics, masks) in ComputeGradients and Fit, inference mode (moving
/// statistics, no dropout) in PredictBatch and Evaluate.
[Sequential(6, 6, 2)]
[Conv2D(3, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[BatchNormalization]
[MaxPool2D(2)]
[Dropout(0.3)]
[Flatten]
[Dense(4, Activation = Activation.Relu)]
[BatchNormalization(Momentum = 0.9, Epsilon = 0.01)]
[Dropout(0.5)]
[Dense(3, Activation = Activation.Softmax)]
public partial class NormDrop;

/// BatchNormalization on the input (before every layer with parameters: no input gradient there), a strided relu
/// convolution and GlobalAveragePooling2D into the output Dense.
[Sequential(7, 7, 3)]
[BatchNormalization]
[Conv2D(4, 3, Stride = 2, Activation = Activation.Relu)]
[GlobalAveragePooling2D]
[Dense(3, Activation = Activation.Softmax)]
public partial class GlobalPool;

using ModelGen;

namespace LeNet5Sample;

/// LeNet-5 as in the Keras tutorial's code: both convolutions use 'same' padding (107,786 parameters).
/// The tutorial wrote input_shape=(14,14,1) on the second convolution, which Keras silently ignores; with ModelGen
/// that line would not compile (MG0105: the layer receives 14x14x6), so it is left out here.
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

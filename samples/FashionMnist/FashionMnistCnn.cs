using ModelGen;

namespace FashionMnistSample;

/// A small CNN for Fashion-MNIST in the usual Keras style: two 'same' ReLU convolutions, each followed by batch
/// normalization and 2x2 max pooling, then a ReLU hidden layer with dropout.
[Sequential(28, 28, 1)]
[Conv2D(32, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[BatchNormalization]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding = Padding.Same, Activation = Activation.Relu)]
[BatchNormalization]
[MaxPool2D(2)]
[Flatten]
[Dense(128, Activation = Activation.Relu)]
[Dropout(0.3)]
[Dense(10, Activation = Activation.Softmax)]
public partial class FashionMnistCnn;

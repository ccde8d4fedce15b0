namespace ModelGen.Sample.Tests;

/// <summary>A network of another architecture than LeNet5, whose model file LeNet5 must refuse.</summary>
[Sequential(28, 28, 1)]
[Flatten]
[Dense(10, Activation = Activation.Softmax)]
public partial class TinyNet;

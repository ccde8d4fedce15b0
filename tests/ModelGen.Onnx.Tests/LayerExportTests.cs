namespace ModelGen.Onnx.Tests;

// Networks that each stress one thing the export must get right, compared in ONNX Runtime with ModelGen's outputs.

/// <summary>'same' with stride 2 on an odd size: the padding is asymmetric (1 above, 2 below with a 4x4 kernel on 9 rows).</summary>
[Sequential(9, 9, 2)]
[Conv2D(3, 4, Stride = 2, Padding = Padding.Same, Activation = Activation.Relu)]
[Flatten]
[Dense(4, Activation = Activation.Softmax)]
public partial class AsymmetricSamePadding;

/// <summary>'valid' with a stride that skips the last rows and columns (10 = 3·3 + 1: one row unused).</summary>
[Sequential(10, 10, 1)]
[Conv2D(2, 2, Stride = 3, Activation = Activation.Sigmoid)]
[Flatten]
[Dense(3)]
public partial class ValidStrideSkipsRows;

/// <summary>Average and max pooling with strides other than the pool size, and Flatten of several channels.</summary>
[Sequential(11, 11, 3)]
[AvgPool2D(3, Stride = 2)]
[MaxPool2D(2, Stride = 1)]
[Conv2D(5, 1, Activation = Activation.Tanh)]
[Flatten]
[Dense(6, Activation = Activation.Softmax)]
public partial class PoolingStrides;

/// <summary>An image output: the ONNX output is flattened in ModelGen's channels-last order.</summary>
[Sequential(6, 5, 2)]
[Conv2D(3, 3, Padding = Padding.Same)]
[MaxPool2D(2)]
public partial class ImageOutput;

/// <summary>Softmax on a convolution's output: over all of its values (channels last), as Predict computes it.</summary>
[Sequential(5, 5, 1)]
[Conv2D(2, 2, Activation = Activation.Softmax)]
public partial class ConvolutionSoftmax;

/// <summary>Flatten straight after the input: no transposes at all.</summary>
[Sequential(3, 4, 2)]
[Flatten]
[Dense(5, Activation = Activation.Tanh)]
[Dense(2, Activation = Activation.Sigmoid)]
public partial class FlattenFirst;

/// <summary>A flat input.</summary>
[Sequential(17)]
[Dense(8, Activation = Activation.Relu)]
[Dense(3, Activation = Activation.Softmax)]
public partial class FlatInput;

public sealed class LayerExportTests
{
    public static TheoryData<string> Networks => new(
        nameof(AsymmetricSamePadding), nameof(ValidStrideSkipsRows), nameof(PoolingStrides), nameof(ImageOutput),
        nameof(ConvolutionSoftmax), nameof(FlattenFirst), nameof(FlatInput));

    [Theory]
    [MemberData(nameof(Networks))]
    public void Export_InOnnxRuntime_EqualsModelGen(string name)
    {
        var network = Create(name);
        // Non-zero biases, so that a bias in the wrong place or order shows.
        var random = new Random(name.Length);
        foreach (var view in network.Description.ParameterViews.Where(v => v.Name.EndsWith("/bias", StringComparison.Ordinal)))
        {
            foreach (ref var b in view.Of(network.Parameters)) b = (float)(random.NextDouble() - 0.5);
        }

        var inputs = Enumerable.Range(0, 5 * network.Description.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        OnnxCheck.AssertMatchesModelGen(network, inputs, name);
    }

    [Fact]
    public void Export_OfAsymmetricPadding_WritesKerasPadding()
    {
        // 9 rows, kernel 4, stride 2, 'same': ceil(9 / 2) = 5 outputs, (5 - 1)·2 + 4 - 9 = 3 rows of padding, 1 above
        // and 2 below (Keras puts the odd one at the bottom).
        var layer = AsymmetricSamePadding.ModelDescription.Layers[0];
        Assert.Equal((1, 1), (layer.PadTop, layer.PadLeft));
        Assert.Equal([5, 5, 3], layer.OutputShape);
    }

    internal static INetwork Create(string name) => name switch
    {
        nameof(AsymmetricSamePadding) => new AsymmetricSamePadding(1),
        nameof(ValidStrideSkipsRows) => new ValidStrideSkipsRows(2),
        nameof(PoolingStrides) => new PoolingStrides(3),
        nameof(ImageOutput) => new ImageOutput(4),
        nameof(ConvolutionSoftmax) => new ConvolutionSoftmax(5),
        nameof(FlattenFirst) => new FlattenFirst(6),
        nameof(FlatInput) => new FlatInput(7),
        _ => throw new ArgumentException(name),
    };
}

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

/// <summary>BatchNormalization on an image (over its channels) and on a flat vector, with a non-default epsilon.</summary>
[Sequential(8, 7, 3)]
[Conv2D(4, 3, Padding = Padding.Same)]
[BatchNormalization(Epsilon = 0.01)]
[MaxPool2D(2)]
[Flatten]
[Dense(6, Activation = Activation.Relu)]
[BatchNormalization]
[Dense(3, Activation = Activation.Softmax)]
public partial class Normalized;

/// <summary>Dropout after a convolution and after a dense layer: identity in inference.</summary>
[Sequential(6, 6, 1)]
[Conv2D(3, 3, Activation = Activation.Tanh)]
[Dropout(0.5)]
[Flatten]
[Dense(5, Activation = Activation.Sigmoid)]
[Dropout(0.25)]
[Dense(2)]
public partial class WithDropout;

/// <summary>GlobalAveragePooling2D between a convolution and a dense layer (Keras's channels-last [N, C] output).</summary>
[Sequential(9, 7, 2)]
[Conv2D(5, 3, Activation = Activation.Relu)]
[BatchNormalization]
[GlobalAveragePooling2D]
[Dense(4, Activation = Activation.Softmax)]
public partial class GlobalPooled;

/// <summary>GlobalAveragePooling2D as the last layer: the output is the channel means.</summary>
[Sequential(5, 4, 3)]
[GlobalAveragePooling2D]
public partial class GlobalPoolingOutput;

public sealed class LayerExportTests
{
    public static TheoryData<string> Networks => new(
        nameof(AsymmetricSamePadding), nameof(ValidStrideSkipsRows), nameof(PoolingStrides), nameof(ImageOutput),
        nameof(ConvolutionSoftmax), nameof(FlattenFirst), nameof(FlatInput), nameof(Normalized), nameof(WithDropout),
        nameof(GlobalPooled), nameof(GlobalPoolingOutput));

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

        // BatchNormalization's four tensors away from their initial 1, 0, 0, 1, each channel different, so that a swapped
        // tensor, a wrong channel axis or the batch statistics instead of the moving ones would show.
        foreach (var view in network.Description.ParameterViews)
        {
            var role = view.Name[(view.Name.IndexOf('/') + 1)..];
            if (role is not ("gamma" or "beta" or "moving_mean" or "moving_variance")) continue;
            foreach (ref var v in view.Of(network.Parameters))
            {
                v = role switch
                {
                    "gamma" => (float)(0.5 + random.NextDouble()),
                    "moving_variance" => (float)(0.1 + 2 * random.NextDouble()),
                    _ => (float)(random.NextDouble() - 0.5),
                };
            }
        }

        var inputs = Enumerable.Range(0, 5 * network.Description.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        OnnxCheck.AssertMatchesModelGen(network, inputs, name);
    }

    [Fact]
    public void Export_OfTrainedBatchNormalizationAndDropout_InOnnxRuntime_EqualsModelGenInInference()
    {
        // A few epochs of training move the moving statistics and the trainable tensors as Fit does (dropout active):
        // the export must hold the statistics inference uses.
        var random = new Random(11);
        const int count = 64;
        var features = Enumerable.Range(0, count * Normalized.InputLength).Select(_ => (float)random.NextDouble() * 3f).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % Normalized.OutputLength).ToArray();
        var data = new Dataset(features, labels, Normalized.InputLength);
        var network = new Normalized(5);
        network.Fit(data, epochs: 3, batchSize: 16, seed: 2, progress: new ProgressReporter(TextWriter.Null, live: false));
        var mean = Normalized.ModelDescription.GetView("batch_normalization/moving_mean").Of(network.Parameters).ToArray();
        Assert.Contains(mean, m => m != 0f); // the statistics moved

        OnnxCheck.AssertMatchesModelGen(network, features, "trained Normalized");
        var dropout = new WithDropout(3);
        dropout.Fit(new Dataset(
                Enumerable.Range(0, 32 * WithDropout.InputLength).Select(_ => (float)random.NextDouble()).ToArray(),
                Enumerable.Range(0, 32).Select(i => i % WithDropout.OutputLength).ToArray(), WithDropout.InputLength),
            epochs: 2, batchSize: 8, seed: 4, progress: new ProgressReporter(TextWriter.Null, live: false));
        OnnxCheck.AssertMatchesModelGen(dropout, Enumerable.Range(0, 6 * WithDropout.InputLength).Select(_ => (float)random.NextDouble()).ToArray(), "trained WithDropout");
    }

    [Fact]
    public void EveryLayerNetwork_IsAcceptedByOnnxChecker()
    {
        if (OnnxCheck.PythonWithOnnx is not { } python)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI needs python3 with onnx (Debian python3-onnx): .ci/run installs it.");
            return;
        }

        var folder = Directory.CreateTempSubdirectory("modelgen-onnx-layers-").FullName;
        try
        {
            var files = new List<string>();
            foreach (var name in ((IEnumerable<object[]>)Networks).Select(row => (string)row[0]))
            {
                var path = Path.Combine(folder, name + ".onnx");
                OnnxExport.Save(Create(name), path);
                files.Add(path);
            }

            Assert.Empty(OnnxCheck.CheckerErrors(python, files));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Export_WritesTheOnnxOperatorOfEachLayerKind()
    {
        var nodes = global::Onnx.ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(new GlobalPooled(1))).Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(["Transpose", "Conv", "Relu", "BatchNormalization", "GlobalAveragePool", "Flatten", "Gemm", "Softmax"], nodes);
        var dropout = global::Onnx.ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(new WithDropout(1))).Graph.Node.Select(n => n.OpType);
        Assert.DoesNotContain("Dropout", dropout);
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
        nameof(Normalized) => new Normalized(8),
        nameof(WithDropout) => new WithDropout(9),
        nameof(GlobalPooled) => new GlobalPooled(10),
        nameof(GlobalPoolingOutput) => new GlobalPoolingOutput(11),
        _ => throw new ArgumentException(name),
    };
}

using System;
using System.Collections.Generic;

namespace ModelGen;

/// <summary>Everything the runtime needs to know about a generated network, all fixed at compile time.</summary>
public sealed class NetworkDescription
{
    /// <summary>Creates a description (generated code does, once per model type, through CompilerServices.GeneratedModel).</summary>
    internal NetworkDescription(
        int contractVersion,
        string name,
        int[] inputShape,
        int outputLength,
        int parameterCount,
        int trainableParameterCount,
        int microBatch,
        bool softmaxOutput,
        string architecture,
        string fingerprint,
        string summary,
        LayerDescription[] layers,
        ParameterView[] parameterViews)
    {
        ContractVersion = contractVersion;
        Name = name;
        InputShape = inputShape;
        InputLength = 1;
        foreach (var d in inputShape) InputLength *= d;
        OutputLength = outputLength;
        ParameterCount = parameterCount;
        TrainableParameterCount = trainableParameterCount;
        MicroBatch = microBatch;
        SoftmaxOutput = softmaxOutput;
        Architecture = architecture;
        Fingerprint = fingerprint;
        Summary = summary;
        Layers = layers;
        ParameterViews = parameterViews;
    }

    /// <summary>Full name of the model class.</summary>
    public string Name { get; }

    /// <summary>Input shape: { height, width, channels } or { length }.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Number of floats in one input sample.</summary>
    public int InputLength { get; }

    /// <summary>Number of floats the last layer produces for one sample (classes, for a classifier).</summary>
    public int OutputLength { get; }

    /// <summary>Number of parameters, trainable and non-trainable: Keras's "Total params", the length of <see cref="INetwork.Parameters"/>.</summary>
    public int ParameterCount { get; }

    /// <summary>
    /// Number of trainable parameters (Keras's "Trainable params"): the first ones of the parameter buffer, the ones the
    /// optimizer updates and a gradient holds.
    /// </summary>
    public int TrainableParameterCount { get; }

    /// <summary>
    /// Number of non-trainable parameters (Keras's "Non-trainable params"): the state after the trainable parameters that
    /// training moves without the optimizer (BatchNormalization's moving mean and variance).
    /// </summary>
    public int NonTrainableParameterCount => ParameterCount - TrainableParameterCount;

    /// <summary>Samples one evaluation or prediction pass runs at once (chosen by the generator from the network's buffer sizes).</summary>
    public int MicroBatch { get; }

    /// <summary>The generator/runtime contract the network was generated for (CompilerServices.GeneratedModel.ContractVersion).</summary>
    internal int ContractVersion { get; }

    /// <summary>True when the last layer applies softmax (its outputs are probabilities).</summary>
    public bool SoftmaxOutput { get; }

    /// <summary>Canonical text of the layer spec, e.g. <c>Input(28x28x1) Conv2D(6,k5,s1,same,tanh) ...</c>.</summary>
    public string Architecture { get; }

    /// <summary>Hash of <see cref="Architecture"/>: model files store it to refuse weights of another network.</summary>
    public string Fingerprint { get; }

    /// <summary>Keras-style summary table (layer, output shape, parameters).</summary>
    public string Summary { get; }

    /// <summary>Layers in execution order.</summary>
    public IReadOnlyList<LayerDescription> Layers { get; }

    /// <summary>
    /// Named slices of the parameter buffer in Keras layouts (<c>conv2d/kernel</c> is [kh, kw, in, out]), listed in Keras's
    /// <c>get_weights()</c> order (layer by layer: kernel, bias; gamma, beta, moving_mean, moving_variance). The buffer
    /// itself holds the trainable tensors first, then the non-trainable ones (Keras's <c>trainable_weights +
    /// non_trainable_weights</c>), so offsets follow the list only up to the first non-trainable view.
    /// </summary>
    public IReadOnlyList<ParameterView> ParameterViews { get; }

    /// <summary>Finds a parameter view by its Keras name, e.g. <c>dense_1/bias</c>.</summary>
    public ParameterView GetView(string name)
    {
        foreach (var view in ParameterViews)
        {
            if (view.Name == name) return view;
        }
        throw new KeyNotFoundException($"{Name} has no parameter named '{name}'.");
    }

    /// <summary>Parameter <paramref name="index"/> by its tensor, e.g. <c>dense_2/bias[3]</c>; by its index alone without a description.</summary>
    internal static string NameOf(NetworkDescription? description, int index)
    {
        foreach (var view in description?.ParameterViews ?? [])
        {
            if (index >= view.Offset && index < view.Offset + view.Length) return $"{view.Name}[{index - view.Offset}]";
        }
        return index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// One layer of a generated network, as the generator planned it: its kind, shapes and arguments. Exporters (ONNX) and
/// tools read the network's structure from here rather than re-deriving it.
/// </summary>
/// <param name="Name">Keras-style name, e.g. <c>conv2d_1</c>; its parameters are the views <c>Name/kernel</c> and <c>Name/bias</c> (BatchNormalization: <c>Name/gamma</c>, <c>/beta</c>, <c>/moving_mean</c>, <c>/moving_variance</c>).</param>
/// <param name="Kind">Layer type: Conv2D, MaxPool2D, AvgPool2D, Flatten, Dense, BatchNormalization, Dropout or GlobalAveragePooling2D.</param>
/// <param name="OutputShape">Shape of one sample's output.</param>
/// <param name="ParameterCount">Parameters of this layer, trainable and non-trainable (Keras's "Param #").</param>
public sealed record LayerDescription(string Name, string Kind, int[] OutputShape, int ParameterCount)
{
    /// <summary>Shape of one sample's input: { height, width, channels } or { length }.</summary>
    public int[] InputShape { get; init; } = [];

    /// <summary>Side of the square window: the kernel of a Conv2D, the pool of a pooling layer; 0 for other layers.</summary>
    public int KernelSize { get; init; }

    /// <summary>Step of the window in both directions (Conv2D and pooling); 0 for other layers.</summary>
    public int Stride { get; init; }

    /// <summary>A Conv2D's padding mode (pooling is always <see cref="ModelGen.Padding.Valid"/>).</summary>
    public Padding Padding { get; init; }

    /// <summary>
    /// Zero rows above the input of a 'same' Conv2D (0 for 'valid'). The rows below are what the windows need beyond the
    /// input and the top padding: ((OutputHeight - 1) · Stride + KernelSize) - InputHeight - PadTop, at least 0.
    /// </summary>
    public int PadTop { get; init; }

    /// <summary>Zero columns left of the input of a 'same' Conv2D (0 for 'valid'); the right ones follow as for <see cref="PadTop"/>.</summary>
    public int PadLeft { get; init; }

    /// <summary>The activation of a Conv2D or Dense layer (<see cref="ModelGen.Activation.None"/> for other layers).</summary>
    public Activation Activation { get; init; }

    /// <summary>BatchNormalization's epsilon, added to the variance before its square root; 0 for other layers.</summary>
    public double Epsilon { get; init; }

    /// <summary>BatchNormalization's momentum (how much of the moving statistics a step keeps); 0 for other layers.</summary>
    public double Momentum { get; init; }

    /// <summary>Dropout's rate, the fraction of values training drops; 0 for other layers.</summary>
    public double Rate { get; init; }

    /// <summary>Multiply-adds of this layer's forward pass for one sample.</summary>
    public long MultiplyAdds { get; init; }
}

/// <summary>A named slice of the parameter buffer.</summary>
/// <param name="Name">Keras-style name, e.g. <c>conv2d/kernel</c>.</param>
/// <param name="Offset">First index in the parameter buffer.</param>
/// <param name="Shape">Shape in Keras layout.</param>
/// <param name="Trainable">False for state the optimizer does not update (<c>batch_normalization/moving_mean</c>, <c>/moving_variance</c>).</param>
public sealed record ParameterView(string Name, int Offset, int[] Shape, bool Trainable = true)
{
    /// <summary>Number of floats in the view.</summary>
    public int Length
    {
        get
        {
            var n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The view's floats inside <paramref name="buffer"/> (parameters or gradients).</summary>
    public Span<float> Of(float[] buffer) => buffer.AsSpan(Offset, Length);
}

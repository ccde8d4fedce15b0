using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace ModelGen;

/// <summary>
/// Writes a generated network as a standard ONNX model (behind the generated <c>ExportOnnx</c>). The model takes exactly
/// what <c>PredictBatch</c> takes and returns what it returns: input <see cref="InputName"/>, [N, H, W, C] float (or
/// [N, length]) scaled as in training; output <see cref="ProbabilitiesName"/> [N, classes] after a softmax, otherwise
/// <see cref="OutputsName"/> [N, outputs]. Built from the layer table the generator wrote
/// (<see cref="NetworkDescription.Layers"/>) with the official ONNX schema (onnx.proto, compiled by protoc).
/// </summary>
/// <remarks>
/// ONNX's convolution and pooling operators work on NCHW, ModelGen (like Keras) on NHWC: the graph transposes to NCHW
/// before the first spatial layer and back to NHWC before a Flatten (and before the output), so flattened values are in
/// ModelGen's order, (y · W + x) · C + c, and the Dense kernels after them are exported unchanged. Conv2D kernels are
/// transposed from Keras's [kh, kw, in, out] to ONNX's [out, in, kh, kw] when written.
/// </remarks>
public static class OnnxExport
{
    /// <summary>The name of the graph's input.</summary>
    public const string InputName = "input";

    /// <summary>The name of the graph's output when the last layer applies softmax.</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>The name of the graph's output when it does not (the last layer's values, as <c>Predict</c> returns them).</summary>
    public const string OutputsName = "outputs";

    /// <summary>The ONNX operator set the graph uses (the default domain).</summary>
    public const int Opset = 13;

    /// <summary>The ONNX IR version written: that of onnx.proto v1.12, which ONNX Runtime and onnx ≥ 1.10 read.</summary>
    public const int IrVersion = 8;

    /// <summary>The name of the output of <paramref name="description"/>'s exported graph.</summary>
    public static string OutputName(NetworkDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        return description.SoftmaxOutput ? ProbabilitiesName : OutputsName;
    }

    /// <summary>Writes <paramref name="network"/> as an ONNX model to <paramref name="path"/>, atomically (a failure keeps the previous file).</summary>
    /// <exception cref="ModelGenException">A layer has no ONNX form, a parameter is not finite, or the file cannot be written.</exception>
    public static void Save(INetwork network, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(network);
        try
        {
            AtomicFile.WriteAllBytes(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelGenException($"Cannot write the ONNX model to {path}: {e.Message} Check that the folder exists and is writable (and has free space).", e);
        }
    }

    /// <summary>The ONNX model of <paramref name="network"/>, serialized (the bytes <see cref="Save"/> writes).</summary>
    /// <exception cref="ModelGenException">A layer has no ONNX form, or a parameter is not finite.</exception>
    public static byte[] ToBytes(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        float[] parameters;
        // A snapshot between two training steps, as Save takes one.
        lock (ModelStore.Gate(network)) parameters = (float[])network.Parameters.Clone();
        return Build(network.Description, parameters).ToByteArray();
    }

    internal static ModelProto Build(NetworkDescription d, float[] parameters)
    {
        var bad = Trainer.FirstNonFinite(parameters);
        if (bad >= 0)
        {
            throw new ModelGenException(
                $"Cannot export {d.Name} to ONNX: parameter {NetworkDescription.NameOf(d, bad)} is {parameters[bad]}; a model with non-finite weights predicts nothing useful. Train it again or load a saved model.");
        }

        var graph = new GraphBuilder(d, parameters);
        foreach (var layer in d.Layers) graph.Add(layer);
        var g = graph.Finish();

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ModelGen",
            ProducerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0",
            Domain = "modelgen",
            ModelVersion = 1,
            DocString = $"{d.Name}, exported by ModelGen: {d.Architecture}",
            Graph = g,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "modelgen.architecture", Value = d.Architecture });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "modelgen.fingerprint", Value = d.Fingerprint });
        return model;
    }

    /// <summary>Where the values of the tensor being built are, and in which order.</summary>
    private enum Layout
    {
        /// <summary>[N, length].</summary>
        Flat,

        /// <summary>[N, H, W, C]: ModelGen's order.</summary>
        ChannelsLast,

        /// <summary>[N, C, H, W]: ONNX's operators' order.</summary>
        ChannelsFirst,
    }

    /// <summary>Appends one ONNX node per operation, layer after layer, tracking the current tensor and its layout.</summary>
    private sealed class GraphBuilder
    {
        private readonly NetworkDescription _d;
        private readonly float[] _parameters;
        private readonly GraphProto _graph;
        private string _current = InputName;
        private Layout _layout;
        private int[] _shape;

        public GraphBuilder(NetworkDescription d, float[] parameters)
        {
            _d = d;
            _parameters = parameters;
            _shape = d.InputShape.ToArray();
            _layout = _shape.Length == 3 ? Layout.ChannelsLast : Layout.Flat;
            _graph = new GraphProto { Name = d.Name, DocString = d.Architecture };
            _graph.Input.Add(ValueInfo(InputName, [.. _shape], "The samples as Predict takes them, scaled as in training."));
        }

        /// <summary>Appends <paramref name="layer"/>: one case per layer kind, each writing that kind's ONNX nodes.</summary>
        public void Add(LayerDescription layer)
        {
            switch (layer.Kind)
            {
                case "Conv2D":
                    Conv(layer);
                    break;
                case "MaxPool2D":
                case "AvgPool2D":
                    Pool(layer);
                    break;
                case "Flatten":
                    Flatten(layer.Name);
                    break;
                case "Dense":
                    Dense(layer);
                    break;
                case "BatchNormalization":
                    BatchNormalization(layer);
                    break;
                case "Dropout":
                    // Inference passes every value through (Keras's Dropout outside training): nothing to write.
                    break;
                case "GlobalAveragePooling2D":
                    GlobalAveragePooling(layer);
                    break;
                default:
                    throw new ModelGenException(
                        $"Cannot export {_d.Name} to ONNX: layer '{layer.Name}' ({layer.Kind}) has no ONNX form in this ModelGen. Export a network without it, or update ModelGen.");
            }

            _shape = layer.OutputShape;
        }

        /// <summary>The graph, its output flattened to [N, outputs] in ModelGen's order (and softmax applied) as Predict returns it.</summary>
        public GraphProto Finish()
        {
            if (_layout != Layout.Flat) Flatten("output");
            if (_d.SoftmaxOutput) _current = Node("Softmax", "softmax", [_current], [Int("axis", 1)]);
            var output = OutputName(_d);
            if (_graph.Node.Count == 0) Node("Identity", "output", [_current]);
            // The last node writes the graph's output directly.
            _graph.Node[^1].Output[0] = output;
            _graph.Output.Add(ValueInfo(output, [_d.OutputLength], _d.SoftmaxOutput ? "Class probabilities." : "The last layer's values."));
            return _graph;
        }

        private void Conv(LayerDescription layer)
        {
            ToChannelsFirst();
            var kernel = _d.GetView(layer.Name + "/kernel");
            var bias = _d.GetView(layer.Name + "/bias");
            int k = layer.KernelSize, inChannels = layer.InputShape[2], outChannels = layer.OutputShape[2];

            // Keras [kh, kw, in, out] -> ONNX [out, in, kh, kw].
            var source = kernel.Of(_parameters);
            var weights = new float[source.Length];
            for (var o = 0; o < outChannels; o++)
            {
                for (var i = 0; i < inChannels; i++)
                {
                    for (var y = 0; y < k; y++)
                    {
                        for (var x = 0; x < k; x++)
                        {
                            weights[((o * inChannels + i) * k + y) * k + x] = source[((y * k + x) * inChannels + i) * outChannels + o];
                        }
                    }
                }
            }

            var w = Initializer(kernel.Name, [outChannels, inChannels, k, k], weights, $"Keras {kernel.Name} [kh, kw, in, out] as ONNX's [out, in, kh, kw].");
            var b = Initializer(bias.Name, [outChannels], bias.Of(_parameters).ToArray(), null);
            var (bottom, right) = FarPadding(layer);
            _current = Node("Conv", layer.Name, [_current, w, b],
            [
                Ints("kernel_shape", k, k),
                Ints("strides", layer.Stride, layer.Stride),
                Ints("pads", layer.PadTop, layer.PadLeft, bottom, right),
                Ints("dilations", 1, 1),
                Int("group", 1),
            ]);
            Activation(layer);
        }

        private void Pool(LayerDescription layer)
        {
            ToChannelsFirst();
            var attributes = new List<AttributeProto>
            {
                Ints("kernel_shape", layer.KernelSize, layer.KernelSize),
                Ints("strides", layer.Stride, layer.Stride),
                // 'valid': the windows lie inside the input, floor((in - pool) / stride) + 1 of them.
                Ints("pads", 0, 0, 0, 0),
                Int("ceil_mode", 0),
            };
            // Without padding every window is whole; count_include_pad=0 says so anyway (the mean of the cells it covers).
            if (layer.Kind == "AvgPool2D") attributes.Add(Int("count_include_pad", 0));
            _current = Node(layer.Kind == "MaxPool2D" ? "MaxPool" : "AveragePool", layer.Name, [_current], attributes);
        }

        private void Dense(LayerDescription layer)
        {
            var kernel = _d.GetView(layer.Name + "/kernel");
            var bias = _d.GetView(layer.Name + "/bias");
            // Keras's Dense kernel [in, out] is Gemm's B as it is: y = x · kernel + bias.
            var w = Initializer(kernel.Name, kernel.Shape, kernel.Of(_parameters).ToArray(), null);
            var b = Initializer(bias.Name, bias.Shape, bias.Of(_parameters).ToArray(), null);
            _current = Node("Gemm", layer.Name, [_current, w, b]);
            Activation(layer);
        }

        /// <summary>
        /// Inference-mode batch normalization over the channels (the last axis): y = (x - moving_mean) / sqrt(moving_variance
        /// + epsilon) · gamma + beta. ONNX normalizes axis 1, which is the channel axis of NCHW and of a flat [N, C].
        /// </summary>
        private void BatchNormalization(LayerDescription layer)
        {
            if (_layout != Layout.Flat) ToChannelsFirst();
            string Tensor(string role)
            {
                var view = _d.GetView($"{layer.Name}/{role}");
                return Initializer(view.Name, view.Shape, view.Of(_parameters).ToArray(), null);
            }

            _current = Node("BatchNormalization", layer.Name,
                [_current, Tensor("gamma"), Tensor("beta"), Tensor("moving_mean"), Tensor("moving_variance")],
                [Float("epsilon", (float)layer.Epsilon)]);
        }

        /// <summary>The mean of each channel over the image: [N, C, 1, 1], flattened to Keras's [N, C].</summary>
        private void GlobalAveragePooling(LayerDescription layer)
        {
            ToChannelsFirst();
            _current = Node("GlobalAveragePool", layer.Name, [_current]);
            // One value per channel: NCHW with H = W = 1 flattens to the channels-last order without a transpose.
            _current = Node("Flatten", $"{layer.Name}/flatten", [_current], [Int("axis", 1)]);
            _layout = Layout.Flat;
        }

        /// <summary>The element-wise activation after a layer; softmax (last layer only) is applied over the flattened output in <see cref="Finish"/>.</summary>
        private void Activation(LayerDescription layer)
        {
            var op = layer.Activation switch
            {
                ModelGen.Activation.None or ModelGen.Activation.Softmax => null,
                ModelGen.Activation.Tanh => "Tanh",
                ModelGen.Activation.Relu => "Relu",
                ModelGen.Activation.Sigmoid => "Sigmoid",
                _ => throw new ModelGenException($"Cannot export {_d.Name} to ONNX: layer '{layer.Name}' has the activation {layer.Activation}, which has no ONNX form in this ModelGen."),
            };
            if (op is not null) _current = Node(op, $"{layer.Name}/{op.ToLowerInvariant()}", [_current]);
        }

        /// <summary>Flattens in ModelGen's channels-last order: back to NHWC first when the values are in NCHW.</summary>
        private void Flatten(string name)
        {
            if (_layout == Layout.ChannelsFirst) _current = Node("Transpose", $"{name}/to_nhwc", [_current], [Ints("perm", 0, 2, 3, 1)]);
            if (_layout != Layout.Flat) _current = Node("Flatten", name, [_current], [Int("axis", 1)]);
            _layout = Layout.Flat;
        }

        private void ToChannelsFirst()
        {
            if (_layout == Layout.ChannelsFirst) return;
            _current = Node("Transpose", $"{_current}/to_nchw", [_current], [Ints("perm", 0, 3, 1, 2)]);
            _layout = Layout.ChannelsFirst;
        }

        /// <summary>
        /// Padding below and right of the input: what the last window needs beyond the input and the top (left) padding.
        /// 'same' pads so that the output is ceil(in / stride) (the odd row or column below and right, as Keras does);
        /// 'valid' pads nothing (the last rows a stride skips are dropped, as ONNX's floor rule drops them).
        /// </summary>
        private static (int Bottom, int Right) FarPadding(LayerDescription layer)
        {
            if (layer.Padding == Padding.Valid) return (0, 0);
            var bottom = (layer.OutputShape[0] - 1) * layer.Stride + layer.KernelSize - layer.InputShape[0] - layer.PadTop;
            var right = (layer.OutputShape[1] - 1) * layer.Stride + layer.KernelSize - layer.InputShape[1] - layer.PadLeft;
            return (Math.Max(bottom, 0), Math.Max(right, 0));
        }

        private string Node(string op, string name, string[] inputs, IEnumerable<AttributeProto>? attributes = null)
        {
            var output = name;
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            if (attributes is not null) node.Attribute.AddRange(attributes);
            _graph.Node.Add(node);
            return output;
        }

        private string Initializer(string name, IReadOnlyList<int> shape, float[] values, string? doc)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = LittleEndian(values) };
            if (doc is not null) tensor.DocString = doc;
            foreach (var dim in shape) tensor.Dims.Add(dim);
            _graph.Initializer.Add(tensor);
            return name;
        }

        /// <summary>ONNX stores raw tensor data little-endian, whatever the machine.</summary>
        private static ByteString LittleEndian(float[] values)
        {
            if (BitConverter.IsLittleEndian) return ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
            var bytes = new byte[values.Length * sizeof(float)];
            for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            return ByteString.CopyFrom(bytes);
        }

        /// <summary>A float tensor [N, ...dims] with a symbolic batch dimension.</summary>
        private static ValueInfoProto ValueInfo(string name, int[] dims, string doc)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto
            {
                Name = name,
                DocString = doc,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }

        private static AttributeProto Int(string name, long value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        private static AttributeProto Float(string name, float value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

        private static AttributeProto Ints(string name, params long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            return attribute;
        }
    }
}

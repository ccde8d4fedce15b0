namespace ModelGen.Numerics.Tests.Reference;

/// <summary>Layer types of the reference, spelled out independently of the generator's own model.</summary>
internal enum RefKind
{
    Conv2D,
    MaxPool2D,
    AvgPool2D,
    Flatten,
    Dense,
    BatchNormalization,
    Dropout,
    GlobalAveragePooling2D,
}

/// <summary>Shape of one sample's activation: an image (h, w, c) or a flat vector (n).</summary>
internal readonly record struct RefShape(int H, int W, int C, bool IsImage)
{
    public static RefShape Image(int h, int w, int c) => new(h, w, c, true);

    public static RefShape Flat(int n) => new(0, 0, n, false);

    public int Length => IsImage ? H * W * C : C;

    public int[] ToArray() => IsImage ? [H, W, C] : [C];

    public override string ToString() => IsImage ? $"{H}x{W}x{C}" : C.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One layer of a reference network, with the shapes and parameter offsets the reference computed itself.</summary>
internal sealed record RefLayer(
    RefKind Kind,
    string Name,
    RefShape In,
    RefShape Out,
    int Size,
    int K,
    int Stride,
    Padding Padding,
    Activation Activation,
    int PadTop,
    int PadLeft,
    int KernelOffset,
    int[] KernelShape,
    int BiasOffset,
    double Rate = 0,
    double Momentum = 0.99,
    double Epsilon = 0.001,
    int StateOffset = -1)
{
    public int KernelLength => KernelShape.Aggregate(1, (a, b) => a * b);

    public int BiasLength => Kind is RefKind.Conv2D or RefKind.Dense ? Size : 0;

    /// <summary>Keras's "Param #": kernel and bias, or BatchNormalization's gamma, beta, moving mean and moving variance.</summary>
    public int ParameterCount => Kind is RefKind.Conv2D or RefKind.Dense ? KernelLength + BiasLength : Kind == RefKind.BatchNormalization ? 4 * In.C : 0;

    /// <summary>What the optimizer trains: all of it but BatchNormalization's moving statistics.</summary>
    public int TrainableCount => Kind == RefKind.BatchNormalization ? 2 * In.C : ParameterCount;

    public bool HasParameters => ParameterCount > 0;

    /// <summary>BatchNormalization: gamma at KernelOffset, beta at BiasOffset (trainable); moving mean and variance in the state segment.</summary>
    public int GammaOffset => KernelOffset;

    public int BetaOffset => BiasOffset;
}

/// <summary>How a reference pass runs: inference, or training with the dropout masks of one pass key.</summary>
internal sealed record RefTraining(ulong DropoutKey);

/// <summary>
/// Records the discrete decisions of one forward pass (ReLU on/off, which cell wins a max pool) and how close the pass came
/// to changing one of them. A finite difference is only valid when both sides of it took the same decisions, and the
/// float32 network only takes the reference's decisions when no decision was within float rounding of flipping.
/// </summary>
internal sealed class Trace
{
    public long Hash { get; private set; } = 17;

    public long Count { get; private set; }

    /// <summary>Smallest |z| at a ReLU and smallest (max - runner-up) in a max-pool window; +inf when none.</summary>
    public double Margin { get; private set; } = double.PositiveInfinity;

    public void Decide(long decision, double margin)
    {
        unchecked { Hash = Hash * 1_000_003 + decision + 1; }
        Count++;
        if (margin < Margin) Margin = margin;
    }
}

/// <summary>Thrown when a finite difference straddles a ReLU kink or a max-pool switch: the test data must be redrawn.</summary>
internal sealed class KinkCrossedException(string message) : Exception(message);

/// <summary>
/// A naive, double-precision implementation of the Keras layers ModelGen generates code for: plain nested loops over Keras
/// layouts (Conv2D kernel [kh, kw, in, out], Dense kernel [in, out], channels-last images held as [h, w, c] arrays),
/// written from the Keras documentation and sharing no code with the generator or runtime. Shapes, parameter offsets and
/// Keras names are computed here, from the Keras rules, so the tests do not trust the generator's shape logic.
/// </summary>
internal sealed class ReferenceNetwork
{
    private readonly List<RefLayer> _layers = [];
    private readonly Dictionary<RefKind, int> _names = [];
    private int _trainable;
    private int _state;

    private ReferenceNetwork(RefShape input)
    {
        Input = input;
        Current = input;
    }

    public RefShape Input { get; }

    /// <summary>Output shape of the last layer added so far.</summary>
    public RefShape Current { get; private set; }

    public RefShape Output => Current;

    public IReadOnlyList<RefLayer> Layers => _layers;

    /// <summary>Keras's "Total params".</summary>
    public int ParameterCount => _trainable + _state;

    /// <summary>Keras's "Trainable params": the first ones of the buffer (Keras's trainable_weights, then non_trainable_weights).</summary>
    public int TrainableParameterCount => _trainable;

    public bool SoftmaxOutput => _layers.Count > 0 && _layers[^1].Activation == Activation.Softmax;

    /// <summary>Absolute offset of a BatchNormalization layer's moving mean (its moving variance follows it).</summary>
    public int MovingMeanOffset(RefLayer layer) => _trainable + layer.StateOffset;

    public int MovingVarianceOffset(RefLayer layer) => _trainable + layer.StateOffset + layer.In.C;

    /// <summary>(name, offset, shape) of every parameter tensor in Keras's get_weights() order, layer by layer.</summary>
    public IEnumerable<(string Name, int Offset, int[] Shape)> Views()
    {
        foreach (var l in _layers.Where(l => l.HasParameters))
        {
            if (l.Kind == RefKind.BatchNormalization)
            {
                yield return (l.Name + "/gamma", l.GammaOffset, [l.In.C]);
                yield return (l.Name + "/beta", l.BetaOffset, [l.In.C]);
                yield return (l.Name + "/moving_mean", MovingMeanOffset(l), [l.In.C]);
                yield return (l.Name + "/moving_variance", MovingVarianceOffset(l), [l.In.C]);
                continue;
            }

            yield return (l.Name + "/kernel", l.KernelOffset, l.KernelShape);
            yield return (l.Name + "/bias", l.BiasOffset, [l.Size]);
        }
    }

    public static ReferenceNetwork Image(int h, int w, int c) => new(RefShape.Image(h, w, c));

    public static ReferenceNetwork Flat(int n) => new(RefShape.Flat(n));

    public ReferenceNetwork Conv(int filters, int kernel, int stride = 1, Padding padding = Padding.Valid, Activation activation = Activation.None)
    {
        var x = RequireImage("Conv2D");
        int outH, outW, padTop = 0, padLeft = 0;
        if (padding == Padding.Same)
        {
            // Keras/TensorFlow 'same': out = ceil(in / s); total padding = max((out - 1)·s + k - in, 0), the smaller half on top/left.
            outH = (x.H + stride - 1) / stride;
            outW = (x.W + stride - 1) / stride;
            padTop = Math.Max((outH - 1) * stride + kernel - x.H, 0) / 2;
            padLeft = Math.Max((outW - 1) * stride + kernel - x.W, 0) / 2;
        }
        else
        {
            if (kernel > x.H || kernel > x.W) throw new InvalidOperationException($"reference: kernel {kernel} larger than {x}");
            outH = (x.H - kernel) / stride + 1;
            outW = (x.W - kernel) / stride + 1;
        }

        var kernelShape = new[] { kernel, kernel, x.C, filters };
        return Add(RefKind.Conv2D, RefShape.Image(outH, outW, filters), filters, kernel, stride, padding, activation, padTop, padLeft, kernelShape);
    }

    public ReferenceNetwork MaxPool(int pool, int? stride = null) => Pool(RefKind.MaxPool2D, pool, stride ?? pool);

    public ReferenceNetwork AvgPool(int pool, int? stride = null) => Pool(RefKind.AvgPool2D, pool, stride ?? pool);

    public ReferenceNetwork Flatten()
    {
        var x = RequireImage("Flatten");
        return Add(RefKind.Flatten, RefShape.Flat(x.Length), 0, 0, 0, Padding.Valid, Activation.None, 0, 0, []);
    }

    public ReferenceNetwork Dense(int units, Activation activation = Activation.None)
    {
        if (Current.IsImage) throw new InvalidOperationException("reference: Dense needs a flat input");
        return Add(RefKind.Dense, RefShape.Flat(units), units, 0, 1, Padding.Valid, activation, 0, 0, [Current.C, units]);
    }

    /// <summary>Keras BatchNormalization (axis −1): per channel of an image, per unit of a vector.</summary>
    public ReferenceNetwork BatchNorm(double momentum = 0.99, double epsilon = 0.001) =>
        Add(RefKind.BatchNormalization, Current, 0, 0, 1, Padding.Valid, Activation.None, 0, 0, [], momentum: momentum, epsilon: epsilon);

    public ReferenceNetwork Dropout(double rate) =>
        Add(RefKind.Dropout, Current, 0, 0, 1, Padding.Valid, Activation.None, 0, 0, [], rate: rate);

    public ReferenceNetwork GlobalAveragePool()
    {
        var x = RequireImage("GlobalAveragePooling2D");
        return Add(RefKind.GlobalAveragePooling2D, RefShape.Flat(x.C), 0, 0, 1, Padding.Valid, Activation.None, 0, 0, []);
    }

    private ReferenceNetwork Pool(RefKind kind, int pool, int stride)
    {
        var x = RequireImage(kind.ToString());
        if (pool > x.H || pool > x.W) throw new InvalidOperationException($"reference: pool {pool} larger than {x}");
        var output = RefShape.Image((x.H - pool) / stride + 1, (x.W - pool) / stride + 1, x.C);
        return Add(kind, output, 0, pool, stride, Padding.Valid, Activation.None, 0, 0, []);
    }

    private RefShape RequireImage(string what) =>
        Current.IsImage ? Current : throw new InvalidOperationException($"reference: {what} needs an image input");

    private ReferenceNetwork Add(
        RefKind kind, RefShape output, int size, int k, int stride, Padding padding, Activation activation, int padTop, int padLeft, int[] kernelShape,
        double rate = 0, double momentum = 0.99, double epsilon = 0.001)
    {
        // Keras names: conv2d, conv2d_1, ...; max_pooling2d; average_pooling2d; flatten; dense, dense_1, ...;
        // batch_normalization; dropout; global_average_pooling2d.
        var baseName = kind switch
        {
            RefKind.Conv2D => "conv2d",
            RefKind.MaxPool2D => "max_pooling2d",
            RefKind.AvgPool2D => "average_pooling2d",
            RefKind.Flatten => "flatten",
            RefKind.BatchNormalization => "batch_normalization",
            RefKind.Dropout => "dropout",
            RefKind.GlobalAveragePooling2D => "global_average_pooling2d",
            _ => "dense",
        };
        _names.TryGetValue(kind, out var seen);
        _names[kind] = seen + 1;
        var name = seen == 0 ? baseName : $"{baseName}_{seen}";

        // Trainable tensors take the next trainable offsets (kernel then bias; gamma then beta); moving statistics the next
        // places of the state segment, which follows every trainable tensor.
        var first = kind == RefKind.BatchNormalization ? Current.C : kernelShape.Aggregate(1, (a, b) => a * b);
        var layer = new RefLayer(kind, name, Current, output, size, k, stride, padding, activation, padTop, padLeft,
            _trainable, kernelShape, _trainable + first, rate, momentum, epsilon, kind == RefKind.BatchNormalization ? _state : -1);
        _trainable += layer.TrainableCount;
        _state += layer.ParameterCount - layer.TrainableCount;
        _layers.Add(layer);
        Current = output;
        return this;
    }

    // ---------------------------------------------------------------- forward

    /// <summary>
    /// Runs one sample in inference mode. Returns the network output (probabilities after a softmax) as a flat channels-last
    /// vector and the logits the loss is computed from (pre-softmax values; the outputs themselves when the last layer has no softmax).
    /// </summary>
    public (double[] Output, double[] Logits) Run(double[] parameters, ReadOnlySpan<float> input, Trace? trace = null)
    {
        var x = new double[input.Length];
        for (var i = 0; i < x.Length; i++) x[i] = input[i];
        return Run(parameters, x, trace);
    }

    public (double[] Output, double[] Logits) Run(double[] parameters, double[] input, Trace? trace = null) =>
        RunBatch(parameters, [input], training: null, trace)[0];

    /// <summary>
    /// Runs a batch: in inference mode (<paramref name="training"/> null) each sample alone; in training mode BatchNormalization
    /// normalises with the batch's mean and biased variance (returned per layer in <paramref name="statistics"/>) and Dropout
    /// drops by <see cref="ReferenceDropout"/>'s masks of the pass key.
    /// </summary>
    public (double[] Output, double[] Logits)[] RunBatch(
        double[] parameters, IReadOnlyList<double[]> inputs, RefTraining? training, Trace? trace = null,
        List<(double[] Mean, double[] Variance)>? statistics = null)
    {
        if (parameters.Length != ParameterCount) throw new ArgumentException("reference: wrong parameter count");
        var count = inputs.Count;

        // The network input is a flat channels-last buffer: pixel (y, x, c) is at (y·W + x)·C + c.
        var images = new double[count][,,];
        var vectors = new double[count][];
        for (var n = 0; n < count; n++)
        {
            var input = inputs[n];
            if (input.Length != Input.Length) throw new ArgumentException("reference: wrong input length");
            if (Input.IsImage) images[n] = ToImage(input, Input);
            else vectors[n] = (double[])input.Clone();
        }

        var logits = new double[count][];
        for (var li = 0; li < _layers.Count; li++)
        {
            var layer = _layers[li];
            var last = li == _layers.Count - 1;
            for (var n = 0; n < count; n++)
            {
                switch (layer.Kind)
                {
                    case RefKind.Conv2D:
                        images[n] = Conv2D(layer, parameters, images[n]);
                        if (last && layer.Activation == Activation.Softmax) logits[n] = FlattenImage(images[n]);
                        Activate(layer.Activation, images[n], trace);
                        break;
                    case RefKind.MaxPool2D:
                        images[n] = MaxPool(layer, images[n], trace);
                        break;
                    case RefKind.AvgPool2D:
                        images[n] = AvgPool(layer, images[n]);
                        break;
                    case RefKind.Flatten:
                        vectors[n] = FlattenImage(images[n]);
                        images[n] = null!;
                        break;
                    case RefKind.Dense:
                        vectors[n] = Dense(layer, parameters, vectors[n]);
                        if (last && layer.Activation == Activation.Softmax) logits[n] = (double[])vectors[n].Clone();
                        Activate(layer.Activation, vectors[n], trace);
                        break;
                    case RefKind.Dropout when training is not null:
                    {
                        // Keras: inputs / keep_prob where the mask keeps the value, 0 elsewhere.
                        var flat = layer.In.IsImage ? FlattenImage(images[n]) : vectors[n];
                        for (var u = 0; u < flat.Length; u++)
                        {
                            flat[u] = ReferenceDropout.Keeps(training.DropoutKey, li + 1, n, u, layer.Rate) ? flat[u] / (1 - layer.Rate) : 0;
                        }

                        if (layer.In.IsImage) images[n] = ToImage(flat, layer.In);
                        else vectors[n] = flat;
                        break;
                    }
                    case RefKind.GlobalAveragePooling2D:
                        vectors[n] = GlobalAveragePool(images[n]);
                        images[n] = null!;
                        break;
                }
            }

            if (layer.Kind == RefKind.BatchNormalization)
            {
                var used = BatchNormalize(layer, parameters, images, vectors, training is not null);
                statistics?.Add(used);
            }
        }

        var result = new (double[] Output, double[] Logits)[count];
        for (var n = 0; n < count; n++)
        {
            var output = images[n] is not null ? FlattenImage(images[n]) : vectors[n];
            result[n] = (output, SoftmaxOutput ? logits[n] : output);
        }

        return result;
    }

    /// <summary>
    /// Keras's BatchNormalization over the batch, in place: training normalises with the batch's per-channel mean and biased
    /// variance (over every sample and pixel), inference with the moving statistics; returns the statistics used.
    /// </summary>
    private (double[] Mean, double[] Variance) BatchNormalize(RefLayer l, double[] p, double[][,,] images, double[][] vectors, bool training)
    {
        var c = l.In.C;
        var count = images.Length;
        // Every value of channel ch, sample by sample, pixel by pixel.
        IEnumerable<(int N, int Y, int X)> Places()
        {
            for (var n = 0; n < count; n++)
            {
                if (!l.In.IsImage)
                {
                    yield return (n, 0, 0);
                    continue;
                }

                for (var y = 0; y < l.In.H; y++)
                    for (var x = 0; x < l.In.W; x++)
                        yield return (n, y, x);
            }
        }

        double Get((int N, int Y, int X) at, int ch) => l.In.IsImage ? images[at.N][at.Y, at.X, ch] : vectors[at.N][ch];
        void Set((int N, int Y, int X) at, int ch, double v)
        {
            if (l.In.IsImage) images[at.N][at.Y, at.X, ch] = v;
            else vectors[at.N][ch] = v;
        }

        var means = new double[c];
        var variances = new double[c];
        for (var ch = 0; ch < c; ch++)
        {
            double mean, variance;
            if (training)
            {
                var values = Places().Select(at => Get(at, ch)).ToArray();
                mean = values.Average();
                variance = values.Select(v => (v - mean) * (v - mean)).Average(); // biased: divided by the count, not count - 1
            }
            else
            {
                mean = p[MovingMeanOffset(l) + ch];
                variance = p[MovingVarianceOffset(l) + ch];
            }

            means[ch] = mean;
            variances[ch] = variance;
            var gamma = p[l.GammaOffset + ch];
            var beta = p[l.BetaOffset + ch];
            foreach (var at in Places()) Set(at, ch, gamma * (Get(at, ch) - mean) / Math.Sqrt(variance + l.Epsilon) + beta);
        }

        return (means, variances);
    }

    /// <summary>Sparse categorical cross-entropy of one sample from the logits: log Σ e^z - z[label].</summary>
    public static double CrossEntropy(double[] z, int label)
    {
        var max = z.Max();
        var sum = 0.0;
        foreach (var v in z) sum += Math.Exp(v - max);
        return max + Math.Log(sum) - z[label];
    }

    /// <summary>Cross-entropy of one sample in inference mode.</summary>
    public double Loss(double[] parameters, double[] input, int label, Trace? trace = null) => CrossEntropy(Run(parameters, input, trace).Logits, label);

    /// <summary>
    /// Σ over samples of the per-sample loss (ForwardBackward accumulates unscaled per-sample gradients): each sample alone in
    /// inference mode, or the samples as one batch in training mode.
    /// </summary>
    public double Loss(double[] parameters, IReadOnlyList<(double[] Input, int Label)> samples, Trace? trace = null, RefTraining? training = null)
    {
        if (training is null)
        {
            var sum = 0.0;
            foreach (var (input, label) in samples) sum += Loss(parameters, input, label, trace);
            return sum;
        }

        var outputs = RunBatch(parameters, samples.Select(s => s.Input).ToArray(), training, trace);
        return samples.Select((s, n) => CrossEntropy(outputs[n].Logits, s.Label)).Sum();
    }

    /// <summary>
    /// Central finite differences of the summed loss over <paramref name="samples"/>, in double precision, for the parameter
    /// indices in <paramref name="indices"/> (all trainable ones when null). Step h = <paramref name="relativeStep"/>·max(1, |w|).
    /// Throws <see cref="KinkCrossedException"/> when a step changes a ReLU or max-pool decision (the loss is not smooth there).
    /// </summary>
    public double[] FiniteDifferences(
        double[] parameters, IReadOnlyList<(double[] Input, int Label)> samples, double relativeStep, IEnumerable<int>? indices = null,
        RefTraining? training = null)
    {
        var baseTrace = new Trace();
        Loss(parameters, samples, baseTrace, training);
        var gradient = new double[parameters.Length];
        var p = (double[])parameters.Clone();
        foreach (var i in indices ?? Enumerable.Range(0, TrainableParameterCount))
        {
            var w = parameters[i];
            var h = relativeStep * Math.Max(1.0, Math.Abs(w));
            var plusTrace = new Trace();
            p[i] = w + h;
            var plus = Loss(p, samples, plusTrace, training);
            var minusTrace = new Trace();
            p[i] = w - h;
            var minus = Loss(p, samples, minusTrace, training);
            p[i] = w;
            if (plusTrace.Hash != baseTrace.Hash || minusTrace.Hash != baseTrace.Hash)
            {
                throw new KinkCrossedException($"perturbing parameter {i} by ±{h} changes a ReLU/max-pool decision");
            }

            // (p_i + h) - (p_i - h) is not exactly 2h in floating point; divide by the step actually taken.
            gradient[i] = (plus - minus) / ((w + h) - (w - h));
        }

        return gradient;
    }

    private static double[,,] ToImage(double[] flat, RefShape shape)
    {
        var image = new double[shape.H, shape.W, shape.C];
        for (var y = 0; y < shape.H; y++)
            for (var x = 0; x < shape.W; x++)
                for (var c = 0; c < shape.C; c++)
                    image[y, x, c] = flat[(y * shape.W + x) * shape.C + c];
        return image;
    }

    /// <summary>Keras GlobalAveragePooling2D: the mean of each channel over every pixel.</summary>
    private static double[] GlobalAveragePool(double[,,] x)
    {
        int h = x.GetLength(0), w = x.GetLength(1), c = x.GetLength(2);
        var v = new double[c];
        for (var ch = 0; ch < c; ch++)
        {
            var sum = 0.0;
            for (var y = 0; y < h; y++)
                for (var xx = 0; xx < w; xx++)
                    sum += x[y, xx, ch];
            v[ch] = sum / (h * w);
        }

        return v;
    }

    private static double[,,] Conv2D(RefLayer l, double[] p, double[,,] x)
    {
        int inH = l.In.H, inW = l.In.W, inC = l.In.C, outC = l.Size, k = l.K;
        var y = new double[l.Out.H, l.Out.W, outC];
        for (var oy = 0; oy < l.Out.H; oy++)
        {
            for (var ox = 0; ox < l.Out.W; ox++)
            {
                for (var co = 0; co < outC; co++)
                {
                    var sum = p[l.BiasOffset + co];
                    for (var ky = 0; ky < k; ky++)
                    {
                        var iy = oy * l.Stride - l.PadTop + ky;
                        if (iy < 0 || iy >= inH) continue; // zero padding
                        for (var kx = 0; kx < k; kx++)
                        {
                            var ix = ox * l.Stride - l.PadLeft + kx;
                            if (ix < 0 || ix >= inW) continue;
                            for (var ci = 0; ci < inC; ci++)
                            {
                                // kernel[ky, kx, ci, co], Keras layout [kh, kw, in, out]
                                sum += x[iy, ix, ci] * p[l.KernelOffset + ((ky * k + kx) * inC + ci) * outC + co];
                            }
                        }
                    }

                    y[oy, ox, co] = sum;
                }
            }
        }

        return y;
    }

    private static double[,,] MaxPool(RefLayer l, double[,,] x, Trace? trace)
    {
        var y = new double[l.Out.H, l.Out.W, l.Out.C];
        for (var oy = 0; oy < l.Out.H; oy++)
        {
            for (var ox = 0; ox < l.Out.W; ox++)
            {
                for (var c = 0; c < l.Out.C; c++)
                {
                    double best = double.NegativeInfinity, second = double.NegativeInfinity;
                    var bestCell = -1;
                    for (var py = 0; py < l.K; py++)
                    {
                        for (var px = 0; px < l.K; px++)
                        {
                            var v = x[oy * l.Stride + py, ox * l.Stride + px, c];
                            if (v > best)
                            {
                                second = best;
                                best = v;
                                bestCell = py * l.K + px;
                            }
                            else if (v > second)
                            {
                                second = v;
                            }
                        }
                    }

                    y[oy, ox, c] = best;
                    // A window of exact zeros (all after a ReLU) has no gradient to route: not a decision that matters.
                    var margin = best == 0 && second == 0 ? double.PositiveInfinity : best - second;
                    trace?.Decide(bestCell, margin);
                }
            }
        }

        return y;
    }

    private static double[,,] AvgPool(RefLayer l, double[,,] x)
    {
        var y = new double[l.Out.H, l.Out.W, l.Out.C];
        for (var oy = 0; oy < l.Out.H; oy++)
        {
            for (var ox = 0; ox < l.Out.W; ox++)
            {
                for (var c = 0; c < l.Out.C; c++)
                {
                    var sum = 0.0;
                    for (var py = 0; py < l.K; py++)
                        for (var px = 0; px < l.K; px++)
                            sum += x[oy * l.Stride + py, ox * l.Stride + px, c];
                    y[oy, ox, c] = sum / (l.K * l.K);
                }
            }
        }

        return y;
    }

    /// <summary>Keras Flatten on channels-last data: element (y, x, c) goes to index (y·W + x)·C + c.</summary>
    private static double[] FlattenImage(double[,,] x)
    {
        int h = x.GetLength(0), w = x.GetLength(1), c = x.GetLength(2);
        var v = new double[h * w * c];
        for (var y = 0; y < h; y++)
            for (var xx = 0; xx < w; xx++)
                for (var ch = 0; ch < c; ch++)
                    v[(y * w + xx) * c + ch] = x[y, xx, ch];
        return v;
    }

    private static double[] Dense(RefLayer l, double[] p, double[] x)
    {
        int n = l.In.C, m = l.Size;
        var y = new double[m];
        for (var o = 0; o < m; o++)
        {
            var sum = p[l.BiasOffset + o];
            for (var i = 0; i < n; i++) sum += x[i] * p[l.KernelOffset + i * m + o]; // kernel[i, o], Keras layout [in, out]
            y[o] = sum;
        }

        return y;
    }

    private static void Activate(Activation activation, double[,,] x, Trace? trace)
    {
        // The same element order as the flat form, so softmax over a conv output covers all of it.
        var flat = FlattenImage(x);
        Activate(activation, flat, trace);
        int h = x.GetLength(0), w = x.GetLength(1), c = x.GetLength(2);
        for (var y = 0; y < h; y++)
            for (var xx = 0; xx < w; xx++)
                for (var ch = 0; ch < c; ch++)
                    x[y, xx, ch] = flat[(y * w + xx) * c + ch];
    }

    private static void Activate(Activation activation, double[] x, Trace? trace)
    {
        switch (activation)
        {
            case Activation.None:
                break;
            case Activation.Tanh:
                for (var i = 0; i < x.Length; i++) x[i] = Math.Tanh(x[i]);
                break;
            case Activation.Relu:
                for (var i = 0; i < x.Length; i++)
                {
                    trace?.Decide(x[i] > 0 ? 1 : 0, Math.Abs(x[i]));
                    x[i] = Math.Max(0.0, x[i]);
                }

                break;
            case Activation.Sigmoid:
                for (var i = 0; i < x.Length; i++) x[i] = 1.0 / (1.0 + Math.Exp(-x[i]));
                break;
            case Activation.Softmax:
                var max = x.Max();
                var sum = 0.0;
                for (var i = 0; i < x.Length; i++)
                {
                    x[i] = Math.Exp(x[i] - max);
                    sum += x[i];
                }

                for (var i = 0; i < x.Length; i++) x[i] /= sum;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }
}

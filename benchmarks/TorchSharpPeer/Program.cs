// TorchSharp peer of the ModelGen LeNet-5 benchmark: same network, data, optimizer and measurements as
// benchmarks/pytorch/lenet5.py, so that the numbers of both peers and of ModelGen can be set side by side.
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSharpPeer;

internal static class Program
{
    private const int BatchSize = 32;
    private const int InferenceBatchSize = 100;
    private const int PredictCalls = 1000;
    private const int EvalStart = 5000;

    private static int Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(Options.Usage);
            return 0;
        }

        try
        {
            Run(options);
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static void Run(Options o)
    {
        torch.set_num_threads(o.Threads);
        torch.set_num_interop_threads(o.Threads);
        torch.manual_seed(o.Seed);

        var (trainX, trainY) = Mnist.Load(o.DataDir, "train", o.Limit);
        var (testX, testY) = Mnist.Load(o.DataDir, "t10k", null);
        long n = trainY.shape[0];
        Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, threads {o.Threads}, " +
                          $"train {n}, test {testY.shape[0]}, epochs {o.Epochs}, batch {BatchSize}, seed {o.Seed}");

        var model = LeNet5.Create();
        long parameters = model.parameters().Sum(p => p.numel());
        Console.WriteLine($"parameters: {parameters}");

        var optimizer = torch.optim.Adam(model.parameters(), lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-7);
        var lossFn = nn.CrossEntropyLoss();
        var shuffle = new Generator((ulong)o.Seed);

        WarmUp(model, lossFn, trainX, trainY);

        var epochSeconds = new List<double>();
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            model.train();
            double lossSum = 0;
            long batches = 0;
            var sw = Stopwatch.StartNew();
            using (var epochScope = NewDisposeScope())
            {
                var order = randperm(n, generator: shuffle);
                var lossTotal = zeros(1);
                for (long start = 0; start < n; start += BatchSize)
                {
                    using var batchScope = NewDisposeScope();
                    long len = Math.Min(BatchSize, n - start);
                    var idx = order.narrow(0, start, len);
                    var x = trainX.index_select(0, idx);
                    var y = trainY.index_select(0, idx);
                    optimizer.zero_grad();
                    var loss = lossFn.forward(model.forward(x), y);
                    loss.backward();
                    optimizer.step();
                    // Summed as a tensor so that the loop does not read a scalar back each batch.
                    lossTotal.add_(loss.detach());
                    batches++;
                }
                sw.Stop();
                lossSum = lossTotal.item<float>();
            }
            double seconds = sw.Elapsed.TotalSeconds;
            epochSeconds.Add(seconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch}: {seconds:F3} s, {n / seconds:F0} images/s, mean loss {lossSum / batches:F4}"));
        }

        model.eval();
        double predictUs = MeasurePredict(model, testX);
        double inferImagesPerS = MeasureInference(model, testX);
        double accuracy = Evaluate(model, testX, testY, EvalStart);

        double medianEpoch = Median(epochSeconds);
        double trainImagesPerS = epochSeconds.Count > 0 ? n / medianEpoch : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training: {trainImagesPerS:F0} images/s (median epoch {medianEpoch:F3} s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"predict (1 image): median {predictUs:F1} us over {PredictCalls} calls"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"inference (batch {InferenceBatchSize}): {inferImagesPerS:F0} images/s over {testY.shape[0]} images"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"final accuracy (test {EvalStart}..{testY.shape[0] - 1}): {accuracy:F4}"));

        var result = new Dictionary<string, object>
        {
            ["peer"] = "torchsharp",
            ["version"] = typeof(torch).Assembly.GetName().Version?.ToString() ?? "",
            ["threads"] = o.Threads,
            ["epochs"] = o.Epochs,
            ["train_images"] = n,
            ["seed"] = o.Seed,
            ["train_images_per_s"] = Math.Round(trainImagesPerS, 1),
            ["epoch_seconds"] = epochSeconds.Select(s => Math.Round(s, 4)).ToArray(),
            ["predict_us_median"] = Math.Round(predictUs, 2),
            ["infer_images_per_s"] = Math.Round(inferImagesPerS, 1),
            ["final_accuracy"] = Math.Round(accuracy, 4),
        };
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
    }

    /// <summary>
    /// Runs forward and backward passes without an optimizer step, so that one-time costs (JIT, native library
    /// start-up, kernel selection) stay out of the first timed epoch while the weights stay untouched.
    /// </summary>
    private static void WarmUp(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor, Tensor> lossFn, Tensor x, Tensor y)
    {
        model.train();
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(BatchSize, y.shape[0]);
            var loss = lossFn.forward(model.forward(x.narrow(0, 0, len)), y.narrow(0, 0, len));
            loss.backward();
        }
        foreach (var p in model.parameters())
        {
            p.grad?.zero_();
        }
    }

    /// <summary>Median over single-image forward passes (softmax included), after a short warm-up.</summary>
    private static double MeasurePredict(nn.Module<Tensor, Tensor> model, Tensor testX)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var image = testX.narrow(0, 0, 1).clone();
        for (int i = 0; i < 50; i++)
        {
            using var s = NewDisposeScope();
            _ = nn.functional.softmax(model.forward(image), 1).data<float>()[0];
        }
        var times = new double[PredictCalls];
        for (int i = 0; i < PredictCalls; i++)
        {
            using var s = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            var probs = nn.functional.softmax(model.forward(image), 1);
            _ = probs.data<float>()[0];
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        return Median(times);
    }

    /// <summary>Images/s of forward passes (softmax included) in batches of 100 over the whole test set.</summary>
    private static double MeasureInference(nn.Module<Tensor, Tensor> model, Tensor testX)
    {
        using var noGrad = no_grad();
        long n = testX.shape[0];
        using (var warm = NewDisposeScope())
        {
            _ = nn.functional.softmax(model.forward(testX.narrow(0, 0, InferenceBatchSize)), 1).data<float>()[0];
        }
        var sw = Stopwatch.StartNew();
        for (long start = 0; start < n; start += InferenceBatchSize)
        {
            using var s = NewDisposeScope();
            var probs = nn.functional.softmax(model.forward(testX.narrow(0, start, Math.Min(InferenceBatchSize, n - start))), 1);
            _ = probs.data<float>()[0];
        }
        sw.Stop();
        return n / sw.Elapsed.TotalSeconds;
    }

    private static double Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, long start)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = y.shape[0] - start;
        var predicted = model.forward(x.narrow(0, start, n)).argmax(1);
        long correct = predicted.eq(y.narrow(0, start, n)).sum().item<long>();
        return (double)correct / n;
    }

    private static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>LeNet-5 with 'same' padding: 107,786 parameters, Glorot-uniform weights, zero biases.</summary>
internal static class LeNet5
{
    public static nn.Module<Tensor, Tensor> Create()
    {
        var model = nn.Sequential(
            ("conv1", nn.Conv2d(1, 6, 5, padding: Padding.Same)),
            ("tanh1", nn.Tanh()),
            ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 16, 5, padding: Padding.Same)),
            ("tanh2", nn.Tanh()),
            ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("dense1", nn.Linear(16 * 7 * 7, 120)),
            ("tanh3", nn.Tanh()),
            ("dense2", nn.Linear(120, 84)),
            ("tanh4", nn.Tanh()),
            // Logits: the softmax of the last layer is applied by the loss in training and explicitly in prediction.
            ("dense3", nn.Linear(84, 10)));
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.EndsWith(".bias", StringComparison.Ordinal))
                {
                    nn.init.zeros_(p);
                }
                else
                {
                    nn.init.xavier_uniform_(p);
                }
            }
        }
        return model;
    }
}

/// <summary>Reads the MNIST IDX files (raw or .gz) into float tensors scaled to [0, 1] and int64 labels.</summary>
internal static class Mnist
{
    public static (Tensor Images, Tensor Labels) Load(string dir, string prefix, int? limit)
    {
        byte[] images = ReadIdx(dir, $"{prefix}-images-idx3-ubyte", 2051, out int[] imageDims);
        byte[] labels = ReadIdx(dir, $"{prefix}-labels-idx1-ubyte", 2049, out int[] labelDims);
        int count = imageDims[0];
        if (labelDims[0] != count)
        {
            throw new InvalidDataException($"{prefix}: {count} images but {labelDims[0]} labels; the files do not belong together.");
        }
        if (limit is int l)
        {
            count = Math.Min(count, l);
        }
        int rows = imageDims[1], cols = imageDims[2];
        int pixels = rows * cols;
        var x = new float[(long)count * pixels];
        for (long i = 0; i < x.LongLength; i++)
        {
            x[i] = images[i] / 255f;
        }
        var y = new long[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = labels[i];
        }
        return (tensor(x, new long[] { count, 1, rows, cols }), tensor(y, new long[] { count }));
    }

    private static byte[] ReadIdx(string dir, string name, int magic, out int[] dims)
    {
        string path = Path.Combine(dir, name);
        Stream stream;
        if (File.Exists(path))
        {
            stream = File.OpenRead(path);
        }
        else if (File.Exists(path + ".gz"))
        {
            stream = new GZipStream(File.OpenRead(path + ".gz"), CompressionMode.Decompress);
        }
        else
        {
            throw new FileNotFoundException($"{name} (or {name}.gz) not found in '{dir}'; pass the MNIST folder with --data DIR.");
        }
        using (stream)
        {
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] all = buffer.ToArray();
            int header = ReadBigEndian(all, 0, name);
            if (header != magic)
            {
                throw new InvalidDataException($"{name}: magic number {header}, expected {magic}; is this an MNIST IDX file?");
            }
            int rank = magic & 0xFF;
            dims = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++)
            {
                dims[i] = ReadBigEndian(all, 4 + 4 * i, name);
                total *= dims[i];
            }
            int offset = 4 + 4 * rank;
            if (all.LongLength - offset < total)
            {
                throw new InvalidDataException($"{name}: truncated ({all.LongLength - offset} bytes of data, {total} expected); download it again.");
            }
            return all.AsSpan(offset, (int)total).ToArray();
        }
    }

    private static int ReadBigEndian(byte[] data, int offset, string name)
    {
        if (data.Length < offset + 4)
        {
            throw new InvalidDataException($"{name}: truncated header; download it again.");
        }
        return (data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3];
    }
}

internal sealed class Options
{
    public const string Usage =
        "usage: TorchSharpPeer --data DIR [--epochs N (2)] [--threads N (2)] [--limit N (all)] [--seed N (42)]";

    public string DataDir { get; private set; } = "";
    public int Epochs { get; private set; } = 2;
    public int Threads { get; private set; } = 2;
    public int? Limit { get; private set; }
    public long Seed { get; private set; } = 42;
    public bool Help { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help")
            {
                o.Help = true;
                return o;
            }
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            int Positive(string v) => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) && r > 0
                ? r
                : throw new ArgumentException($"{a} must be a positive integer, got '{v}'.");
            switch (a)
            {
                case "--data": o.DataDir = Value(); break;
                case "--epochs": o.Epochs = Positive(Value()); break;
                case "--threads": o.Threads = Positive(Value()); break;
                case "--limit": o.Limit = Positive(Value()); break;
                case "--seed":
                    string s = Value();
                    o.Seed = long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed) && seed >= 0
                        ? seed
                        : throw new ArgumentException($"--seed must be a non-negative integer, got '{s}'.");
                    break;
                default: throw new ArgumentException($"unknown option '{a}'.");
            }
        }
        if (o.DataDir.Length == 0)
        {
            throw new ArgumentException("--data DIR is required (the folder with the four MNIST IDX files).");
        }
        return o;
    }
}

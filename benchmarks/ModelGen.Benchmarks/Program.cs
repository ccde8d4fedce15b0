// ModelGen's side of the LeNet-5 benchmark; the peers (benchmarks/TorchSharpPeer, benchmarks/pytorch) measure the
// same things the same way. Usage: ModelGen.Benchmarks [--epochs 2] [--threads 2] [--limit N] [--seed 42] [--data DIR] [--profile]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ModelGen;

var options = Options.Parse(args);
var mnist = options.Data is { } dir ? MnistData.LoadDirectory(dir) : Mnist.Load();
var train = mnist.Train.ToDataset();
if (options.Limit is { } limit) train = train.Slice(0, Math.Min(limit, train.Count));
var test = mnist.Test.ToDataset();
var finalEvaluation = mnist.FinalEvaluation.ToDataset();

var model = new LeNet5(seed: options.Seed);
Console.WriteLine($"ModelGen LeNet-5 ({LeNet5.ParameterCount:N0} parameters), {options.Threads} threads, batch 32, {train.Count:N0} images/epoch");

// (a) Training throughput, one epoch at a time, the training loop only.
var epochSeconds = new List<double>();
for (var epoch = 0; epoch < options.Epochs; epoch++)
{
    var clock = Stopwatch.StartNew();
    Trainer.Fit(model, train, new FitOptions
    {
        Epochs = 1,
        Seed = options.Seed,
        Threads = options.Threads,
        Progress = new ProgressReporter(TextWriter.Null, live: false),
    });
    clock.Stop();
    epochSeconds.Add(clock.Elapsed.TotalSeconds);
    Console.WriteLine($"epoch {epoch + 1}: {clock.Elapsed.TotalSeconds:F2} s ({train.Count / clock.Elapsed.TotalSeconds:N0} images/s), loss {model.History!.Loss[^1]:F4}");
}

var median = Median(epochSeconds);
var trainRate = train.Count / median;

// (b) One-image predict latency (median of 1,000 calls after warm-up).
var image = test.Features(0).ToArray();
var output = new float[LeNet5.OutputLength];
for (var i = 0; i < 200; i++) model.Predict(image, output);
var latencies = new List<double>();
for (var i = 0; i < 1000; i++)
{
    var start = Stopwatch.GetTimestamp();
    model.Predict(test.Features(i), output);
    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
}

var predictMicroseconds = Median(latencies);

// (c) Batch inference: batches of 100 over the 10,000 test images.
var all = test.AllFeatures.ToArray();
var batchSize = 100 * LeNet5.InputLength;
model.PredictBatch(all.AsSpan(0, batchSize));
var inferClock = Stopwatch.StartNew();
for (var offset = 0; offset < all.Length; offset += batchSize) model.PredictBatch(all.AsSpan(offset, batchSize));
inferClock.Stop();
var inferRate = test.Count / inferClock.Elapsed.TotalSeconds;

// (d) Accuracy on the tutorial's final-evaluation split.
var evaluation = Trainer.Evaluate(model, finalEvaluation, options.Threads);

Console.WriteLine($"training: {trainRate:N0} images/s (median epoch {median:F2} s)");
Console.WriteLine($"predict one image: {predictMicroseconds:F1} us (median)");
Console.WriteLine($"batch inference (batch 100): {inferRate:N0} images/s");
Console.WriteLine($"final evaluation: loss {evaluation.Loss:F4}, accuracy {evaluation.Accuracy:F4}");

// (e) Where a step's time goes, against this machine's multiply-add peak.
var peak = FmaPeak.Measure(options.Threads);
double? floor = options.Profile ? LayerProfile.Print(train, options.Threads, peak) : null;
var result = new Dictionary<string, object>
{
    ["peer"] = "modelgen",
    ["threads"] = options.Threads,
    ["epochs"] = options.Epochs,
    ["train_images_per_s"] = Math.Round(trainRate),
    ["epoch_seconds"] = epochSeconds.Select(s => Math.Round(s, 3)).ToArray(),
    ["predict_us_median"] = Math.Round(predictMicroseconds, 2),
    ["infer_images_per_s"] = Math.Round(inferRate),
    ["final_accuracy"] = Math.Round(evaluation.Accuracy, 4),
    ["fma_peak_gflops"] = Math.Round(peak, 1),
    ["arithmetic_floor_images_per_s"] = floor is { } f ? Math.Round(f) : null!,
};
Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

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

internal sealed record Options(int Epochs, int Threads, int? Limit, int Seed, string? Data, bool Profile)
{
    public static Options Parse(string[] args)
    {
        int epochs = 2, threads = 2, seed = 42;
        int? limit = null;
        string? data = null;
        var profile = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--limit": limit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--data": data = Next(); break;
                case "--profile": profile = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new Options(epochs, threads, limit, seed, data, profile);
    }
}

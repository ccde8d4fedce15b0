using System.Globalization;
using System.Text.RegularExpressions;
using LeNet5Sample;
using SkiaSharp;

namespace ModelGen.Sample.Tests;

/// <summary>train, predict and evaluate run in-process on a briefly trained model, checked against MNIST itself.</summary>
public sealed partial class SampleCommandTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void Train_PrintsSummaryEvaluationAndSavesModelHistoryAndPlot()
    {
        var train = fixture.Train;
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains(LeNet5.Summary, train.Out);
        Assert.Contains($"device: cpu ({Environment.ProcessorCount} threads)", train.Out);
        Assert.Contains("2,000 training images", train.Out);
        Assert.Contains("Epoch 1/1", train.Out);
        Assert.Matches(@"63/63 \[=+\] - .* - val_accuracy: \d\.\d{4}", train.Out);

        var match = FinalEvaluationLine().Match(train.Out);
        Assert.True(match.Success, train.Out);

        // The printed evaluation is the one stored in the model file and in history.json.
        var model = LeNet5.Load(fixture.ModelPath);
        var evaluation = Assert.IsType<EvaluationResult>(model.History?.Evaluation);
        Assert.Equal(match.Groups["loss"].Value, ProgressReporter.FormatValue(evaluation.Loss));
        Assert.Equal(match.Groups["accuracy"].Value, ProgressReporter.FormatValue(evaluation.Accuracy));
        Assert.Equal(1, model.History!.Epochs);

        // And it is the model's real accuracy on test images 5000-9999, recomputed here one image at a time.
        var final = fixture.Mnist.FinalEvaluation;
        var correct = 0;
        for (var i = 0; i < final.Count; i++)
        {
            if (model.PredictClass(Scaled(final.Image(i))) == final.Label(i)) correct++;
        }

        Assert.Equal((double)correct / final.Count, evaluation.Accuracy, 12);
        Assert.True(evaluation.Accuracy > 0.7, $"2,000 images for one epoch should reach well over 70%, got {evaluation.Accuracy}");

        var history = TrainingHistory.Load(Path.Combine(fixture.OutDirectory, "history.json"));
        Assert.Equal(model.History.Loss, history.Loss);
        Assert.Equal(evaluation, history.Evaluation);
        AssertPng(Path.Combine(fixture.OutDirectory, "history.png"));
        Assert.Contains($"saved model to {fixture.ModelPath}", train.Out);
        Assert.Equal("", train.Error);
    }

    [Fact]
    public void Predict_RandomImage_PrintsItsTrueLabelAndTheModelsPrediction()
    {
        var result = Cli.Run("predict", "--model", fixture.ModelPath);
        Assert.True(result.ExitCode == 0, result.ToString());
        var index = int.Parse(Regex.Match(result.Out, @"final-evaluation image (\d+) \(test image (\d+)\)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(index, 0, 4999);
        Assert.Contains($"(test image {5000 + index})", result.Out);
        AssertPrediction(result, index);
    }

    [Fact]
    public void Predict_SameSeed_PicksSameImage()
    {
        var first = Cli.Run("predict", "--model", fixture.ModelPath, "--seed", "7");
        var second = Cli.Run("predict", "--model", fixture.ModelPath, "--seed", "7");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(first.Out, second.Out);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1234)]
    [InlineData(4999)]
    public void Predict_Index_ShowsThatImageWithItsLabel(int index)
    {
        var result = Cli.Run("predict", "--model", fixture.ModelPath, "--index", index.ToString(CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"final-evaluation image {index} (test image {5000 + index})", result.Out);
        AssertPrediction(result, index);

        // Redirected output: a plain ramp, two pixel rows per line, no escape codes.
        Assert.DoesNotContain("\u001b[", result.Out);
        var picture = result.Out.Split('\n').Where(l => l.StartsWith('|')).ToArray();
        Assert.Equal(14, picture.Length);
        var image = fixture.Mnist.FinalEvaluation.Image(index);
        for (var row = 0; row < 14; row++)
        {
            Assert.Equal(30, picture[row].Length);
            for (var x = 0; x < 28; x++)
            {
                var mean = (image[2 * row * 28 + x] + image[(2 * row + 1) * 28 + x]) / 2;
                Assert.Equal(TerminalImage.RampChar(mean), picture[row][x + 1]);
            }
        }
    }

    [Fact]
    public void Predict_Png_WritesDigitBesideProbabilityChart()
    {
        var png = fixture.NewPath("prediction.png");
        var result = Cli.Run("predict", "--model", fixture.ModelPath, "--index", "42", "--png", png);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"saved picture to {png}", result.Out);
        using var bitmap = AssertPng(png);
        Assert.True(bitmap.Width > bitmap.Height, "the digit and the chart sit side by side");
    }

    [Fact]
    public void Predict_Image_ScaledUpDarkOnWhiteMnistDigit_GetsTheOriginalsPrediction()
    {
        var model = LeNet5.Load(fixture.ModelPath);
        var final = fixture.Mnist.FinalEvaluation;
        // Images the model classifies right with confidence: a faithful preprocessing must not change their class.
        var checkedImages = 0;
        for (var i = 0; i < final.Count && checkedImages < 3; i++)
        {
            var probabilities = model.Predict(Scaled(final.Image(i)));
            var expected = ArgMax(probabilities);
            if (expected != final.Label(i) || probabilities[expected] < 0.95f) continue;
            checkedImages++;

            var path = fixture.NewPath($"digit-{i}.png");
            WriteDarkOnWhitePng(final.Image(i), 100, path);
            var result = Cli.Run("predict", "--model", fixture.ModelPath, "--image", path);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("True label: unknown", result.Out);
            Assert.Contains($"Predicted digit: {expected}\n", result.Out);
        }

        Assert.Equal(3, checkedImages);
    }

    [Fact]
    public void UserImage_MnistDigitDrawnDarkOnLight_ComesBackAsNearlyTheSameImage()
    {
        // MNIST digits are already boxed to 20 px and centred by mass: the pipeline must nearly reproduce them.
        // A digit whose anti-aliased fringe makes its box wider than 20 px is rescaled and may move by a pixel, so the
        // check is on the whole sample; a one-pixel offset everywhere would bring the mean down to about 0.6.
        var test = fixture.Mnist.Test;
        var correlations = new double[100];
        for (var i = 0; i < correlations.Length; i++)
        {
            var original = test.Image(i).ToArray();
            var inverted = original.Select(v => (byte)(255 - v)).ToArray();
            correlations[i] = Correlation(original, UserImage.ToMnist(inverted, 28, 28, "test"));
        }

        Assert.True(correlations.Average() > 0.95, $"mean correlation {correlations.Average():F3}");
        Assert.True(correlations.Count(c => c > 0.9) >= 90, string.Join(" ", correlations.Select(c => c.ToString("F2", CultureInfo.InvariantCulture))));
    }

    [Fact]
    public void Evaluate_PrintsConfusionMatrixWhoseRowsCountEachClass()
    {
        var result = Cli.Run("evaluate", "--model", fixture.ModelPath);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("test images 5000-9999 (5,000 images", result.Out);
        AssertMatrixMatches(result, fixture.Mnist.FinalEvaluation);

        // The loss and accuracy are those train stored as its final evaluation.
        var evaluation = LeNet5.Load(fixture.ModelPath).History!.Evaluation!;
        Assert.Contains($"loss {ProgressReporter.FormatValue(evaluation.Loss)} - accuracy {ProgressReporter.FormatValue(evaluation.Accuracy)}", result.Out);
    }

    [Fact]
    public void Evaluate_DataFolder_ReadsThatFolder()
    {
        // A small IDX set of the same shape, gzip-compressed like the Fashion-MNIST files.
        var folder = Directory.CreateDirectory(fixture.NewPath("idx")).FullName;
        var train = fixture.Mnist.Train.Slice(0, 50);
        var test = fixture.Mnist.Test.Slice(300, 200);
        WriteIdx(folder, "train-images-idx3-ubyte.gz", [50, 28, 28], train.Pixels);
        WriteIdx(folder, "train-labels-idx1-ubyte.gz", [50], train.Labels);
        WriteIdx(folder, "t10k-images-idx3-ubyte.gz", [200, 28, 28], test.Pixels);
        WriteIdx(folder, "t10k-labels-idx1-ubyte.gz", [200], test.Labels);

        var result = Cli.Run("evaluate", "--model", fixture.ModelPath, "--data", folder);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"on {folder} test images 100-199 (100 images", result.Out);
        AssertMatrixMatches(result, test.Slice(100, 100));

        var all = Cli.Run("evaluate", "--model", fixture.ModelPath, "--data", folder, "--all");
        Assert.True(all.ExitCode == 0, all.ToString());
        AssertMatrixMatches(all, test);
    }

    [Fact]
    public void Predict_MissingModel_FailsWithOneLine()
    {
        var result = Cli.Run("predict", "--model", fixture.NewPath("missing.mgm"), "--index", "3");
        Cli.AssertOneLineError(result, "does not exist");
    }

    [Fact]
    public void Evaluate_MissingModel_FailsWithOneLine()
    {
        Cli.AssertOneLineError(Cli.Run("evaluate", "--model", fixture.NewPath("missing.mgm")), "does not exist");
    }

    [Fact]
    public void Predict_ModelOfAnotherArchitecture_FailsWithOneLine()
    {
        var path = fixture.NewPath("tiny.mgm");
        new TinyNet(seed: 1).Save(path);
        var result = Cli.Run("predict", "--model", path, "--index", "3");
        Cli.AssertOneLineError(result, "architecture");
    }

    [Fact]
    public void Predict_UnreadableImage_FailsWithOneLine()
    {
        var path = fixture.NewPath("not-a-picture.png");
        File.WriteAllText(path, "this is text, not a PNG");
        Cli.AssertOneLineError(Cli.Run("predict", "--model", fixture.ModelPath, "--image", path), "not an image");
    }

    [Fact]
    public void Predict_MissingImage_FailsWithOneLine()
    {
        Cli.AssertOneLineError(Cli.Run("predict", "--model", fixture.ModelPath, "--image", fixture.NewPath("absent.png")), "does not exist");
    }

    [Fact]
    public void Predict_BlankImage_FailsWithOneLine()
    {
        var path = fixture.NewPath("blank.png");
        WriteDarkOnWhitePng(new byte[28 * 28], 60, path);
        Cli.AssertOneLineError(Cli.Run("predict", "--model", fixture.ModelPath, "--image", path), "no digit");
    }

    [Theory]
    [InlineData("5000")]
    [InlineData("-1")]
    public void Predict_IndexOutOfRange_FailsWithOneLine(string index)
    {
        var result = Cli.Run("predict", "--model", fixture.ModelPath, "--index", index);
        Cli.AssertOneLineError(result, "--index");
        Assert.Equal(Program.ExitUsage, result.ExitCode);
    }

    [Theory]
    [InlineData("train", "--epochs", "0")]
    [InlineData("train", "--batch-size", "-3")]
    [InlineData("train", "--epochs", "many")]
    [InlineData("train", "--device", "tpu")]
    [InlineData("predict", "--image", "a.png", "--index", "3")]
    [InlineData("fly")]
    [InlineData()]
    public void BadCommandLine_FailsWithOneLineAndUsageCode(params string[] args)
    {
        var result = Cli.Run(args);
        Cli.AssertOneLineError(result, "");
        Assert.Equal(Program.ExitUsage, result.ExitCode);
    }

    [Fact]
    public void Train_DeviceGpu_TrainsOnTheGpuOrFailsWithOneLineAndCode2()
    {
        var result = Cli.Run("train", "--device", "gpu", "--limit", "200", "--epochs", "1", "--out", fixture.NewPath("gpu"));
        if (CudaDevice() is { } gpu)
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"device: gpu ({gpu}, CUDA)", result.Out);
        }
        else
        {
            Cli.AssertOneLineError(result, "--device gpu: no CUDA GPU found");
            Assert.Equal(Program.ExitUsage, result.ExitCode);
        }
    }

    [Fact]
    public void Train_UnwritableOutFolder_FailsWithOneLine()
    {
        var file = fixture.NewPath("a-file");
        File.WriteAllText(file, "");
        Cli.AssertOneLineError(Cli.Run("train", "--limit", "100", "--out", Path.Combine(file, "sub")), "output folder");
    }

    [Fact]
    public void Train_Interrupted_KeepsTheSavedModelUnchanged()
    {
        var folder = Directory.CreateDirectory(fixture.NewPath("interrupted")).FullName;
        foreach (var file in Directory.GetFiles(fixture.OutDirectory)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var model = Path.Combine(folder, "model.mgm");
        var before = File.ReadAllBytes(model);

        var result = Cli.Run(new CancellationToken(canceled: true), "train", "--resume", "--epochs", "1", "--out", folder);

        Assert.Equal(Program.ExitInterrupted, result.ExitCode);
        // --device auto (the default) says where it trains before the first step.
        Assert.Contains(CudaDevice() is null ? "device: cpu (no CUDA GPU found)" : "device: gpu (", result.Out);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("interrupted", line);
        Assert.Contains($"{model} is unchanged", line);
        Assert.DoesNotContain("Final evaluation", result.Out);
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    private void AssertPrediction(CliResult result, int index)
    {
        var final = fixture.Mnist.FinalEvaluation;
        Assert.Contains($"True label: {final.Label(index)} (", result.Out);
        var probabilities = LeNet5.Load(fixture.ModelPath).Predict(Scaled(final.Image(index)));
        var expected = ArgMax(probabilities);
        Assert.Contains($"Predicted digit: {expected}\n", result.Out);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Top 3: {expected} ({probabilities[expected] * 100:F2}%), "), result.Out);
        Assert.Contains(expected == final.Label(index) ? "(correct)" : "(wrong)", result.Out);
    }

    private static void AssertMatrixMatches(CliResult result, ImageSet set)
    {
        var rows = MatrixRow().Matches(result.Out);
        Assert.True(rows.Count == 10, result.Out);
        var diagonal = 0;
        for (var t = 0; t < 10; t++)
        {
            Assert.Equal(t, int.Parse(rows[t].Groups["label"].Value, CultureInfo.InvariantCulture));
            var counts = rows[t].Groups["counts"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            Assert.Equal(10, counts.Length);
            var classCount = set.Labels.Count(l => l == t);
            Assert.Equal(classCount, counts.Sum());
            Assert.Equal(classCount, int.Parse(rows[t].Groups["total"].Value, CultureInfo.InvariantCulture));
            diagonal += counts[t];
        }

        // The diagonal is the printed accuracy.
        Assert.Contains($"accuracy {ProgressReporter.FormatValue((double)diagonal / set.Count)}", result.Out);
    }

    private static SKBitmap AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, bytes.Take(8).ToArray());
        var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width >= 100 && bitmap.Height >= 100);
        return bitmap;
    }

    /// <summary>Writes a 28x28 MNIST image as a <paramref name="size"/>-pixel square PNG, dark ink on white, bilinear.</summary>
    private static void WriteDarkOnWhitePng(ReadOnlySpan<byte> image, int size, string path)
    {
        using var source = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 28; x++)
            {
                var v = (byte)(255 - image[y * 28 + x]);
                source.SetPixel(x, y, new SKColor(v, v, v));
            }
        }

        using var surface = SKSurface.Create(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(SKColors.White);
        using var sourceImage = SKImage.FromBitmap(source);
        surface.Canvas.DrawImage(sourceImage, new SKRect(0, 0, size, size), new SKSamplingOptions(SKFilterMode.Linear));
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }

    private static void WriteIdx(string folder, string name, int[] dimensions, byte[] data)
    {
        using var file = File.Create(Path.Combine(folder, name));
        Idx.Write(file, dimensions, data, gzip: true);
    }

    private static float[] Scaled(ReadOnlySpan<byte> pixels)
    {
        var input = new float[pixels.Length];
        for (var i = 0; i < pixels.Length; i++) input[i] = pixels[i] * (1f / 255f);
        return input;
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }

        return best;
    }

    private static double Correlation(byte[] a, byte[] b)
    {
        double ma = a.Average(v => (double)v), mb = b.Average(v => (double)v);
        double sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return sab / Math.Sqrt(saa * sbb);
    }

    [GeneratedRegex(@"Final evaluation \(test images 5000-9999\): loss (?<loss>\d+\.\d{4}) - accuracy (?<accuracy>\d\.\d{4})")]
    private static partial Regex FinalEvaluationLine();

    [GeneratedRegex(@"^ *(?<label>\d) \|(?<counts>(?: +\d+){10}) \| *(?<total>\d+) ", RegexOptions.Multiline)]
    private static partial Regex MatrixRow();

    /// <summary>The CUDA device the sample trains on with --device gpu or auto, or null on a machine without one.</summary>
    private static string? CudaDevice() => ModelGen.Gpu.GpuTrainer.FindCudaDevice();
}

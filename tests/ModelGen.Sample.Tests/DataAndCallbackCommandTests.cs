using System.Globalization;
using LeNet5Sample;
using SkiaSharp;

namespace ModelGen.Sample.Tests;

/// <summary>
/// <c>train</c> with callbacks (--early-stopping, --checkpoint, --csv-log, --lr-schedule), other data (--data: an image
/// folder, IDX files) and --augment, checked against the files it writes and MNIST itself.
/// </summary>
public sealed class DataAndCallbackCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("modelgen-sample-data-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void AssertOk(CliResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    private static Dataset Validation(MnistData mnist) => mnist.Validation.ToDataset();

    [Fact]
    public void EarlyStopping_StopsOnItsOwn_AndKeepsTheBestEpoch_WhichCheckpointAndCsvLogRecord()
    {
        var folder = Path.Combine(_root, "es");
        var result = Cli.Run("train", "--limit", "500", "--epochs", "50", "--early-stopping", "2", "--checkpoint", "--csv-log", "--device", "cpu", "--out", folder);
        AssertOk(result);

        var history = TrainingHistory.Load(Path.Combine(folder, "history.json"));
        Assert.InRange(history.Epochs, 3, 49);
        var best = history.ValLoss.IndexOf(history.ValLoss.Min()) + 1;
        Assert.Equal(best + 2, history.Epochs); // patience 2: two epochs after the best
        Assert.Equal(history.Epochs, Assert.Single(history.Stops).Epoch);
        Assert.Equal(best, history.WeightsFromEpoch);
        Assert.Contains($"Epoch {history.Epochs}: early stopping", result.Out);
        Assert.Contains($"Restoring model weights from the end of the best epoch: {best}.", result.Out);

        // The saved model and the checkpoint both hold the best epoch's weights: evaluated on the validation images they
        // give exactly the val_loss that epoch recorded.
        var mnist = Mnist.Load();
        foreach (var file in new[] { "model.mgm", "best.mgm" })
        {
            var model = LeNet5.Load(Path.Combine(folder, file));
            Assert.Equal(history.ValLoss[best - 1], Trainer.Evaluate(model, Validation(mnist)).Loss, 10);
        }

        var csv = File.ReadAllLines(Path.Combine(folder, "history.csv"));
        Assert.Equal("epoch,accuracy,learning_rate,loss,val_accuracy,val_loss", csv[0]);
        Assert.Equal(history.Epochs + 1, csv.Length);
        Assert.Equal(history.ValLoss[^1], double.Parse(csv[^1].Split(',')[^1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void LrSchedule_Cosine_FollowsItsFormula_AndResumeContinuesIt()
    {
        var folder = Path.Combine(_root, "cosine");
        AssertOk(Cli.Run("train", "--limit", "300", "--epochs", "2", "--lr-schedule", "cosine", "--device", "cpu", "--out", folder));
        var resumed = Cli.Run("train", "--resume", "--epochs", "1", "--device", "cpu", "--out", folder);
        AssertOk(resumed);
        Assert.Contains("spans epochs 1-2", resumed.Out);

        // Cosine over the 2 planned epochs from Adam's 0.001: epoch index e gets 0.001 · ½(1 + cos(π · min(e, 2) / 2)).
        var rates = TrainingHistory.Load(Path.Combine(folder, "history.json")).LearningRate;
        Assert.Equal([0.001, 0.0005, 0.0], rates.Select(r => Math.Round(r, 12)));
    }

    [Fact]
    public void ImageFolder_OfMnistPngDigits_Trains_AndPredictPrintsTheClassName()
    {
        var mnist = Mnist.Load();
        var images = Path.Combine(_root, "digits");
        var counts = new int[10];
        for (var i = 0; i < mnist.Train.Count && counts.Any(c => c < 100); i++)
        {
            var label = mnist.Train.Label(i);
            if (counts[label]++ >= 100) continue;
            WritePng(Path.Combine(images, label.ToString(CultureInfo.InvariantCulture), $"{i}.png"), mnist.Train.Image(i).ToArray());
        }

        var folder = Path.Combine(_root, "digits-model");
        var train = Cli.Run("train", "--data", images, "--epochs", "3", "--device", "cpu", "--out", folder);
        AssertOk(train);
        Assert.Contains("800 images of", train.Out);
        Assert.Contains("10 classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)", train.Out);
        var accuracy = double.Parse(train.Out.Split("accuracy ")[^1].Split('\n')[0], CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.6, $"accuracy {accuracy} on the 200 validation images after 3 epochs\n{train}");

        var model = LeNet5.Load(Path.Combine(folder, "model.mgm"));
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], model.ClassNames);

        // A test digit the model never saw, as a PNG file of its own.
        var seven = Enumerable.Range(0, mnist.Test.Count).First(i => mnist.Test.Label(i) == 7);
        var picture = Path.Combine(_root, "seven.png");
        WritePng(picture, mnist.Test.Image(seven).ToArray());
        var predict = Cli.Run("predict", "--model", folder, "--image", picture, "--no-color");
        AssertOk(predict);
        Assert.Matches(@"Predicted class: \d \(\d\)", predict.Out);
    }

    [Fact]
    public void IdxFolder_FashionMnistOrOneMadeHere_Trains()
    {
        // Fashion-MNIST from Debian's dataset-fashion-mnist when installed; otherwise an IDX folder written here from
        // MNIST's bytes, so that the IDX path always runs.
        var folder = "/usr/share/datasets/fashion-mnist";
        if (!File.Exists(Path.Combine(folder, "train-images-idx3-ubyte.gz")))
        {
            folder = Path.Combine(_root, "idx");
            Directory.CreateDirectory(folder);
            var mnist = Mnist.Load();
            WriteIdx(Path.Combine(folder, "train-images-idx3-ubyte.gz"), [mnist.Train.Count, 28, 28], mnist.Train.Pixels);
            WriteIdx(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), [mnist.Train.Count], mnist.Train.Labels);
            WriteIdx(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), [mnist.Test.Count, 28, 28], mnist.Test.Pixels);
            WriteIdx(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), [mnist.Test.Count], mnist.Test.Labels);
        }

        var result = Cli.Run("train", "--data", folder, "--limit", "2000", "--epochs", "1", "--device", "cpu", "--out", Path.Combine(_root, "idx-model"));
        AssertOk(result);
        Assert.Contains($"2,000 training images of {folder} (IDX), validation on its test images 0-4999", result.Out);
        Assert.Contains("Final evaluation (its test images 5000-9999)", result.Out);
        var accuracy = double.Parse(result.Out.Split("accuracy ")[^1].Split('\n')[0], CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.5, result.ToString());
    }

    [Fact]
    public void Augment_Trains_AndIsRefusedOnTheGpu()
    {
        var result = Cli.Run("train", "--limit", "300", "--epochs", "1", "--augment", "--device", "cpu", "--out", Path.Combine(_root, "augment"));
        AssertOk(result);
        Assert.Contains("augmented", result.Out);
        Cli.AssertOneLineError(Cli.Run("train", "--limit", "300", "--epochs", "1", "--augment", "--device", "gpu", "--out", Path.Combine(_root, "augment-gpu")), "--augment runs on the CPU");
    }

    [Fact]
    public void Data_AFolderOfNeither_IsAOneLineError()
    {
        var folder = Path.Combine(_root, "neither");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "readme.txt"), "nothing here");
        Cli.AssertOneLineError(Cli.Run("train", "--data", folder, "--epochs", "1", "--out", Path.Combine(_root, "x")), "is neither a folder of the four IDX files");

        var oneClass = Path.Combine(_root, "one-class");
        WritePng(Path.Combine(oneClass, "cat", "1.png"), new byte[28 * 28]);
        Cli.AssertOneLineError(Cli.Run("train", "--data", oneClass, "--epochs", "1", "--out", Path.Combine(_root, "y")), "has one class folder (cat)");
    }

    private static void WritePng(string path, byte[] gray)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
        gray.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static void WriteIdx(string path, int[] dimensions, byte[] data)
    {
        using var file = File.Create(path);
        Idx.Write(file, dimensions, data, gzip: true);
    }
}

namespace ModelGen.Sample.Tests;

/// <summary>
/// A model trained once for the tests of a class (<c>train --limit 2000 --epochs 1 --device cpu</c> on real MNIST), the output
/// of that run, and MNIST itself as the independent truth.
/// </summary>
public sealed class TrainedModelFixture : IDisposable
{
    public TrainedModelFixture()
    {
        Root = Directory.CreateTempSubdirectory("modelgen-sample-tests-").FullName;
        OutDirectory = Path.Combine(Root, "lenet5");
        Train = Cli.Run("train", "--limit", "2000", "--epochs", "1", "--device", "cpu", "--out", OutDirectory);
        ModelPath = Path.Combine(OutDirectory, "model.mgm");
        Mnist = ModelGen.Mnist.Load();
    }

    /// <summary>A temporary folder removed after the tests.</summary>
    public string Root { get; }

    public string OutDirectory { get; }

    public string ModelPath { get; }

    public CliResult Train { get; }

    public MnistData Mnist { get; }

    /// <summary>A fresh path under <see cref="Root"/>.</summary>
    public string NewPath(string name) => Path.Combine(Root, $"{Guid.NewGuid():N}-{name}");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder does not make a test wrong.
        }
    }
}

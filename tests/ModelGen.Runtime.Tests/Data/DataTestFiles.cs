using System.IO.Compression;
using System.Security.Cryptography;

namespace ModelGen.Runtime.Tests.Data;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Path = Directory.CreateTempSubdirectory("modelgen-data-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Sub(string name) => Directory.CreateDirectory(File(name)).FullName;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>A tiny MNIST-shaped data set (train 6 images, test 4 images, 3x2 pixels) as IDX bytes, with hashes.</summary>
internal static class TinyMnist
{
    public const int Rows = 3, Columns = 2, TrainCount = 6, TestCount = 4;
    public static readonly byte[] TrainLabels = [5, 0, 4, 1, 9, 2];
    public static readonly byte[] TestLabels = [7, 2, 1, 0];

    public static byte[] TrainPixels { get; } = Pixels(TrainCount, seed: 1);
    public static byte[] TestPixels { get; } = Pixels(TestCount, seed: 2);

    /// <summary>Uncompressed IDX bytes of each of the four files, by standard name.</summary>
    public static IReadOnlyDictionary<string, byte[]> Files { get; } = new Dictionary<string, byte[]>
    {
        ["train-images-idx3-ubyte"] = IdxBytes([TrainCount, Rows, Columns], TrainPixels),
        ["train-labels-idx1-ubyte"] = IdxBytes([TrainCount], TrainLabels),
        ["t10k-images-idx3-ubyte"] = IdxBytes([TestCount, Rows, Columns], TestPixels),
        ["t10k-labels-idx1-ubyte"] = IdxBytes([TestCount], TestLabels),
    };

    public static IReadOnlyDictionary<string, string> Hashes { get; } =
        Files.ToDictionary(kv => kv.Key, kv => Convert.ToHexStringLower(SHA256.HashData(kv.Value)));

    /// <summary>IDX bytes built by hand (big-endian header), independent of <see cref="Idx.Write"/>.</summary>
    public static byte[] IdxBytes(int[] dims, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, 0x08, (byte)dims.Length };
        foreach (var d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var z = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return buffer.ToArray();
    }

    public static byte[] Pixels(int count, int seed)
    {
        var pixels = new byte[count * Rows * Columns];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    public static void WriteAll(string folder, bool gzip)
    {
        foreach (var (name, raw) in Files)
        {
            System.IO.File.WriteAllBytes(Path.Combine(folder, gzip ? name + ".gz" : name), gzip ? Gzip(raw) : raw);
        }
    }
}

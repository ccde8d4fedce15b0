using static ModelGen.Runtime.Tests.Persistence.ModelFileTestData;

namespace ModelGen.Runtime.Tests.Persistence;

/// <summary>
/// Seeded property tests: damaged model files either read back exactly as saved or fail with a
/// <see cref="ModelFileException"/>; never another exception type, a hang, or an allocation beyond the file's size.
/// </summary>
public sealed class ModelFileFuzzTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private enum Mutation { FlipBits, SetBytes, Truncate, TruncateAndFlip }

    private static byte[] Mutate(byte[] original, Random random, Mutation kind, bool headerOnly)
    {
        var bytes = (byte[])original.Clone();
        if (kind is Mutation.Truncate or Mutation.TruncateAndFlip)
        {
            bytes = bytes[..random.Next(0, bytes.Length)];
        }
        if (kind is Mutation.FlipBits or Mutation.SetBytes or Mutation.TruncateAndFlip && bytes.Length > 0)
        {
            // Header-focused cases aim at the fixed prefix and the MessagePack header, where the parser works.
            var span = headerOnly ? Math.Min(bytes.Length, 24 + HeaderLength(original)) : bytes.Length;
            var positions = random.Next(1, 9);
            for (var i = 0; i < positions; i++)
            {
                var at = random.Next(span);
                if (kind == Mutation.SetBytes) bytes[at] = (byte)random.Next(256);
                else bytes[at] ^= (byte)(1 << random.Next(8));
            }
        }
        return bytes;
    }

    private static int Run(byte[] original, string path, int seed, int cases, bool headerOnly, bool reseal, ModelFileContent? expected)
    {
        var random = new Random(seed);
        var failures = 0;
        for (var c = 0; c < cases; c++)
        {
            var kind = (Mutation)random.Next(4);
            var bytes = Mutate(original, random, kind, headerOnly);
            if (reseal) Reseal(bytes);
            File.WriteAllBytes(path, bytes);

            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var content = ModelFile.Read(path);
                // Without resealing, only an unchanged file may be accepted (a "set" can write the same byte).
                if (expected is not null)
                {
                    Assert.True(bytes.AsSpan().SequenceEqual(original), $"case {c} ({kind}): a damaged file was accepted");
                    AssertIdentical(expected, content);
                }
            }
            catch (ModelFileException)
            {
                failures++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {c} ({kind}, seed {seed}): {e.GetType().Name} instead of ModelFileException: {e}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // Everything Read allocates is bounded by the real file size (plus fixed overhead).
            Assert.True(allocated < 256 * 1024 + 8L * original.Length, $"case {c} ({kind}): Read allocated {allocated} bytes for a {bytes.Length}-byte file");
        }
        return failures;
    }

    private (byte[] Bytes, ModelFileContent Content, string Path) Saved()
    {
        var content = Content(Small());
        var path = _folder.File("model.mgm");
        ModelFile.Save(path, content);
        var bytes = File.ReadAllBytes(path);
        ModelFile.Read(path); // warm up one-time caches so the allocation bound measures Read itself
        return (bytes, content, path);
    }

    [Theory]
    [InlineData(20261127)]
    [InlineData(42)]
    public void MutatedOrTruncatedFile_ReadsIdenticalOrThrowsModelFileException(int seed)
    {
        var (bytes, content, path) = Saved();

        var failures = Run(bytes, path, seed, cases: 300, headerOnly: false, reseal: false, content);

        Assert.True(failures > 250, $"only {failures} of 300 mutations were detected"); // nearly every mutation changes the file
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void MutatedHeader_ReadsIdenticalOrThrowsModelFileException(int seed)
    {
        var (bytes, content, path) = Saved();

        Run(bytes, path, seed, cases: 200, headerOnly: true, reseal: false, content);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void MutatedAndResealedHeader_ParserNeverThrowsAnythingElse(int seed)
    {
        // Resealing recomputes the checksum, so the damaged prefix and header reach the parser itself, as a
        // crafted file would. Such a file may legitimately read as different content.
        var (bytes, _, path) = Saved();

        Run(bytes, path, seed, cases: 300, headerOnly: true, reseal: true, expected: null);
    }
}

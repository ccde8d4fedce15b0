using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace ModelGen.Runtime.Tests.Persistence;

/// <summary>Hand-built network descriptions and model-file contents for the persistence tests.</summary>
internal static class ModelFileTestData
{
    public const string SmallArchitecture = "Input(4) Dense(3,tanh) Dense(2,softmax)";
    public const string OtherArchitecture = "Input(4) Dense(5,relu) Dense(2,softmax)";

    public static string FingerprintOf(string architecture) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(architecture)));

    /// <summary>Input(4) -> Dense(3, tanh) -> Dense(2, softmax): 4*3+3 + 3*2+2 = 23 parameters.</summary>
    public static NetworkDescription Small(string name = "Tests.SmallNet", int? parameterCountOverride = null) =>
        ModelGen.CompilerServices.GeneratedModel.Describe(
            ModelGen.CompilerServices.GeneratedModel.ContractVersion,
            name,
            inputShape: [4],
            outputLength: 2,
            parameterCount: parameterCountOverride ?? 23,
            trainableParameterCount: parameterCountOverride ?? 23,
            microBatch: 32,
            softmaxOutput: true,
            architecture: SmallArchitecture,
            fingerprint: FingerprintOf(SmallArchitecture),
            summary: "(summary)",
            layers:
            [
                new LayerDescription("dense", "Dense", [3], 15),
                new LayerDescription("dense_1", "Dense", [2], 8),
            ],
            parameterViews:
            [
                new ParameterView("dense/kernel", 0, [4, 3]),
                new ParameterView("dense/bias", 12, [3]),
                new ParameterView("dense_1/kernel", 15, [3, 2]),
                new ParameterView("dense_1/bias", 21, [2]),
            ]);

    /// <summary>Input(4) -> Dense(5, relu) -> Dense(2, softmax): 4*5+5 + 5*2+2 = 37 parameters.</summary>
    public static NetworkDescription Other() =>
        ModelGen.CompilerServices.GeneratedModel.Describe(
            ModelGen.CompilerServices.GeneratedModel.ContractVersion,
            "Tests.OtherNet",
            inputShape: [4],
            outputLength: 2,
            parameterCount: 37,
            trainableParameterCount: 37,
            microBatch: 32,
            softmaxOutput: true,
            architecture: OtherArchitecture,
            fingerprint: FingerprintOf(OtherArchitecture),
            summary: "(summary)",
            layers:
            [
                new LayerDescription("dense", "Dense", [5], 25),
                new LayerDescription("dense_1", "Dense", [2], 12),
            ],
            parameterViews:
            [
                new ParameterView("dense/kernel", 0, [4, 5]),
                new ParameterView("dense/bias", 20, [5]),
                new ParameterView("dense_1/kernel", 25, [5, 2]),
                new ParameterView("dense_1/bias", 35, [2]),
            ]);

    /// <summary>Content for <paramref name="description"/> with awkward finite floats (-0, subnormals, the extremes), Adam state and history.</summary>
    public static ModelFileContent Content(NetworkDescription description, int seed = 7, bool withOptimizer = true, bool withHistory = true)
    {
        var random = new Random(seed);
        var count = description.ParameterCount;
        float[] Fill()
        {
            var values = new float[count];
            for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        var parameters = Fill();
        if (count >= 6)
        {
            parameters[0] = BitConverter.Int32BitsToSingle(0x0000_1234); // a subnormal with a pattern in it
            parameters[1] = -0f;
            parameters[2] = float.Epsilon;
            parameters[3] = float.MaxValue;
            parameters[4] = float.MinValue;
            parameters[5] = -float.Epsilon;
        }

        return new ModelFileContent
        {
            ModelType = description.Name,
            Fingerprint = description.Fingerprint,
            Architecture = description.Architecture,
            ParameterCount = count,
            Parameters = parameters,
            Optimizer = withOptimizer
                ? new OptimizerState("adam", 1875L * 3 + 11,
                    [("learning_rate", 0.001), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7)],
                    [Fill(), Fill()])
                : null,
            HistoryJson = withHistory
                ? """{"loss":[0.1732,0.0512],"accuracy":[0.9461,0.9843],"note":"µ ü 数字 ✓"}"""
                : null,
            SavedAt = new DateTimeOffset(2026, 11, 27, 13, 45, 12, TimeSpan.FromHours(5.5)).AddTicks(1234567),
        };
    }

    /// <summary>Asserts that two contents are identical, floats compared bit for bit.</summary>
    public static void AssertIdentical(ModelFileContent expected, ModelFileContent actual)
    {
        Assert.Equal(expected.ModelType, actual.ModelType);
        Assert.Equal(expected.Fingerprint, actual.Fingerprint);
        Assert.Equal(expected.Architecture, actual.Architecture);
        Assert.Equal(expected.ParameterCount, actual.ParameterCount);
        AssertBitIdentical(expected.Parameters, actual.Parameters);
        Assert.Equal(expected.HistoryJson, actual.HistoryJson);
        Assert.Equal(expected.SavedAt.UtcTicks, actual.SavedAt.UtcTicks);
        Assert.Equal(expected.SavedAt.Offset, actual.SavedAt.Offset);
        if (expected.Optimizer is null)
        {
            Assert.Null(actual.Optimizer);
            return;
        }
        Assert.NotNull(actual.Optimizer);
        Assert.Equal(expected.Optimizer.Kind, actual.Optimizer.Kind);
        Assert.Equal(expected.Optimizer.Iterations, actual.Optimizer.Iterations);
        Assert.Equal(expected.Optimizer.Hyperparameters, actual.Optimizer.Hyperparameters);
        Assert.Equal(expected.Optimizer.Slots.Length, actual.Optimizer.Slots.Length);
        for (var i = 0; i < expected.Optimizer.Slots.Length; i++)
        {
            AssertBitIdentical(expected.Optimizer.Slots[i], actual.Optimizer.Slots[i]);
        }
    }

    public static void AssertBitIdentical(float[] expected, float[] actual) =>
        Assert.Equal(MemoryMarshal.Cast<float, int>(expected).ToArray(), MemoryMarshal.Cast<float, int>(actual).ToArray());

    /// <summary>Rewrites the trailing SHA-256 so that the file passes the checksum: lets tests craft files past that check.</summary>
    public static void Reseal(byte[] file)
    {
        if (file.Length < 32) return;
        SHA256.HashData(file.AsSpan(0, file.Length - 32)).CopyTo(file.AsSpan(file.Length - 32));
    }

    public static int HeaderLength(byte[] file) => (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20));
}

/// <summary>A temporary folder deleted at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "modelgen-persist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Passes writes through to the file until <c>failAfter</c> bytes, then writes the part that fits and throws, as a full disk would.</summary>
internal sealed class FailingStream(Stream inner, long failAfter) : Stream
{
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_written + buffer.Length > failAfter)
        {
            var fits = (int)(failAfter - _written);
            inner.Write(buffer[..fits]);
            _written += fits;
            throw new IOException($"Injected failure after {failAfter} bytes.");
        }
        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using MessagePack;

namespace ModelGen;

/// <summary>
/// Reads and writes ModelGen model files: the weights, architecture fingerprint, optional optimizer state and
/// training history of one model, protected by a SHA-256 checksum and saved atomically.
/// </summary>
/// <remarks>
/// Layout (all integers little-endian; see docs/model-files.md):
/// <code>
/// offset 0   8 bytes  signature 89 4D 47 4D 0D 0A 1A 0A  ("\x89MGM\r\n\x1A\n")
/// offset 8   4 bytes  format version (uint32)
/// offset 12  8 bytes  total file length in bytes (uint64)
/// offset 20  4 bytes  header length H (uint32)
/// offset 24  H bytes  header: a MessagePack map (model type, fingerprint, architecture, parameter count, trainable count (only when not all), saved-at,
///                     optimizer kind/iterations/hyperparameters/slot count, history length)
///            4·P      parameters, raw float32 (the trainable T first, then the non-trainable state)
///            4·T·S    optimizer slots, raw float32, one after another, each over the T trainable parameters
///            h        training history, UTF-8 JSON
/// end − 32   32 bytes SHA-256 of every byte before it
/// </code>
/// The first 24 bytes and the trailing checksum keep this meaning in every format version.
/// </remarks>
public static class ModelFile
{
    /// <summary>The format version this build writes, and the newest it reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The file signature: a non-ASCII first byte, "MGM", then CR LF, Ctrl-Z, LF, which text-mode transfers mangle detectably.</summary>
    internal static ReadOnlySpan<byte> Magic => [0x89, (byte)'M', (byte)'G', (byte)'M', 0x0D, 0x0A, 0x1A, 0x0A];

    internal const int PrefixLength = 24;
    internal const int ChecksumLength = 32;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Saves <paramref name="content"/> to <paramref name="path"/>, creating its folder if needed. The file is written
    /// to a temporary file in the same folder, flushed to disk and then renamed over <paramref name="path"/>, so a
    /// failure or crash during the save leaves any previous file at <paramref name="path"/> as it was.
    /// </summary>
    /// <exception cref="ArgumentException">The content is inconsistent (parameter count, slot lengths, missing names).</exception>
    /// <exception cref="ModelFileException">The file could not be written (<see cref="ModelFileError.Unwritable"/>).</exception>
    public static void Save(string path, ModelFileContent content) => Save(path, content, wrapStream: null);

    /// <summary>
    /// Save with the network whose parameters these are (<paramref name="description"/>, to name a non-finite value by its
    /// tensor) and a hook that wraps the temporary file's stream: tests inject write failures through it.
    /// </summary>
    internal static void Save(string path, ModelFileContent content, Func<Stream, Stream>? wrapStream, NetworkDescription? description = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        var history = Validate(content);
        if (FirstNonFinite(content, description) is { } bad)
        {
            throw new ModelFileException(ModelFileError.NonFiniteValue, path,
                $"Cannot save the model to '{path}': {bad}. A model file holds finite numbers only: the model has diverged or its weights were damaged; " +
                "nothing was written and any previous file there is unchanged. Train again (e.g. with a lower learning rate) or load a good model first.");
        }

        var header = BuildHeader(content, history);
        try
        {
            var full = Path.GetFullPath(path);
            var folder = Path.GetDirectoryName(full) ?? throw new IOException("The path has no folder.");
            if (Directory.Exists(full))
            {
                throw new ModelFileException(ModelFileError.Unwritable, path,
                    $"Cannot save the model to '{path}': it is a folder. Pass a file path such as '{Path.Combine(path, "model.mgm")}'.");
            }
            Directory.CreateDirectory(folder);
            using var file = AtomicFile.Create(full);
            var stream = wrapStream?.Invoke(file.Stream) ?? file.Stream;
            try
            {
                Write(stream, content, header, history);
                stream.Flush();
            }
            finally
            {
                if (!ReferenceEquals(stream, file.Stream)) stream.Dispose();
            }
            file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or SecurityException or ArgumentException)
        {
            throw new ModelFileException(ModelFileError.Unwritable, path,
                $"Cannot save the model to '{path}': {e.Message} Choose a path in a folder you can write to (and check free disk space); any previous file there is unchanged.", e);
        }
    }

    /// <summary>
    /// Describes the first NaN or infinity among the parameters and optimizer slots ("parameter dense_1/bias[3] is NaN"),
    /// or returns null when every value is finite.
    /// </summary>
    internal static string? FirstNonFinite(ModelFileContent content, NetworkDescription? description)
    {
        var at = Trainer.FirstNonFinite(content.Parameters);
        if (at >= 0) return $"parameter {NetworkDescription.NameOf(description, at)} is {Format(content.Parameters[at])}";
        var slots = content.Optimizer?.Slots ?? [];
        for (var s = 0; s < slots.Length; s++)
        {
            at = Trainer.FirstNonFinite(slots[s]);
            if (at >= 0)
            {
                return $"optimizer slot {s} ({content.Optimizer!.Kind}) of parameter {NetworkDescription.NameOf(description, at)} is {Format(slots[s][at])}";
            }
        }
        return null;
    }

    private static string Format(float value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads and fully validates a model file, without comparing it to any model.</summary>
    /// <exception cref="ModelFileException">
    /// The file is missing, not a model file, truncated, corrupt, of a newer format, or unreadable; <see cref="ModelFileException.Reason"/> says which.
    /// </exception>
    public static ModelFileContent Read(string path)
    {
        var content = ReadUnchecked(path);
        if (FirstNonFinite(content, null) is { } bad) throw NonFinite(path, bad);
        return content;
    }

    /// <summary>
    /// Reads and fully validates a model file from <paramref name="stream"/> (from its position to its end: the bytes of a
    /// file, a download or a browser upload), without comparing it to any model. <paramref name="name"/> names the
    /// stream in error messages.
    /// </summary>
    /// <exception cref="ModelFileException">The bytes are not a model file, truncated, corrupt, of a newer format, or unreadable.</exception>
    public static ModelFileContent Read(Stream stream, string? name = null)
    {
        var (content, shownAs) = ReadUnchecked(stream, name);
        if (FirstNonFinite(content, null) is { } bad) throw NonFinite(shownAs, bad);
        return content;
    }

    /// <summary>Reads and validates everything but the finiteness of the numbers, which callers check with names for them.</summary>
    private static ModelFileContent ReadUnchecked(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new ModelFileException(ModelFileError.NotAModelFile, path,
                $"'{path}' is a folder, not a model file. Pass the path of the file inside it, e.g. '{Path.Combine(path, "model.mgm")}'.");
        }

        FileStream file;
        try
        {
            file = RegularFile.OpenRead(path);
        }
        catch (NotARegularFileException e)
        {
            throw new ModelFileException(ModelFileError.NotAModelFile, path,
                $"Model file '{path}' cannot be read: {e.Message}; a model is read from a file of known size (a FIFO would block its reader, a device may never end). " +
                "Pass the path of a file written by ModelGen's Save (to load from a pipe, save the stream to a file first).", e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFileException(ModelFileError.NotFound, path,
                $"Model file '{path}' does not exist. Check the path, or train the model and save it there first.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or SecurityException or ArgumentException)
        {
            throw Unreadable(path, e);
        }

        using (file) return ReadWithin(file, file.Length, path);
    }

    /// <summary>
    /// <see cref="ReadUnchecked(string)"/> for a stream, and the name its errors show. A stream that cannot seek (a
    /// network or upload stream) is first read into memory, as far as the length its prefix declares and one byte more
    /// (to see whether it ends there): memory is bounded by what the header says, not by what the stream might send.
    /// </summary>
    private static (ModelFileContent Content, string Name) ReadUnchecked(Stream stream, string? name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream cannot be read.", nameof(stream));
        name = ShownName(stream, name);
        try
        {
            if (stream.CanSeek) return (ReadWithin(stream, stream.Length - stream.Position, name), name);
            using var buffered = Buffer(stream);
            return (ReadWithin(buffered, buffered.Length, name), name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw Unreadable(name, e);
        }
    }

    /// <summary>What errors call a stream: the name given, a file stream's path, or "stream".</summary>
    internal static string ShownName(Stream stream, string? name) => name ?? (stream is FileStream file ? file.Name : "stream");

    private static MemoryStream Buffer(Stream stream)
    {
        var prefix = new byte[PrefixLength];
        var got = ReadUpTo(stream, prefix);
        var buffered = new MemoryStream();
        buffered.Write(prefix, 0, got);
        if (got == PrefixLength && prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            var declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix.AsSpan(12));
            var remaining = (long)Math.Min(declared, long.MaxValue - 1) - PrefixLength + 1;
            var chunk = new byte[81920];
            while (remaining > 0)
            {
                var n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, remaining));
                if (n == 0) break;
                buffered.Write(chunk, 0, n);
                remaining -= n;
            }
        }

        buffered.Position = 0;
        return buffered;
    }

    /// <summary>Reads a model file of <paramref name="length"/> bytes from <paramref name="stream"/>.</summary>
    private static ModelFileContent ReadWithin(Stream stream, long length, string path)
    {
        try
        {
            return ReadFrom(stream, length, path);
        }
        catch (EndOfStreamException e)
        {
            // The length was checked up front, so this means the file shrank while being read.
            throw new ModelFileException(ModelFileError.Truncated, path,
                $"Model file '{path}' ended early while being read; another program may be writing it. Wait for it to finish and load again.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(path, e);
        }
    }

    /// <summary>
    /// Reads a model file (as <see cref="Read(string)"/>) and checks that it fits the running model <paramref name="expected"/>:
    /// same architecture fingerprint and parameter count.
    /// </summary>
    /// <exception cref="ModelFileException">
    /// Any <see cref="Read(string)"/> error, or <see cref="ModelFileError.ArchitectureMismatch"/> / <see cref="ModelFileError.ParameterCountMismatch"/>.
    /// </exception>
    public static ModelFileContent Load(string path, NetworkDescription expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return CheckFits(ReadUnchecked(path), path, expected);
    }

    /// <summary>
    /// Reads a model file from <paramref name="stream"/> (as <see cref="Read(Stream, string)"/>) and checks that it fits the
    /// running model <paramref name="expected"/>, as <see cref="Load(string, NetworkDescription)"/> does for a file.
    /// </summary>
    /// <exception cref="ModelFileException">Any <see cref="Read(Stream, string)"/> error, or an architecture or parameter count mismatch.</exception>
    public static ModelFileContent Load(Stream stream, string? name, NetworkDescription expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var (content, shownAs) = ReadUnchecked(stream, name);
        return CheckFits(content, shownAs, expected);
    }

    private static ModelFileContent CheckFits(ModelFileContent content, string path, NetworkDescription expected)
    {
        // The fingerprint decides, not the class name: the same architecture under another class name loads.
        if (!string.Equals(content.Fingerprint, expected.Fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFileException(ModelFileError.ArchitectureMismatch, path,
                $"Model file '{path}' holds weights of another architecture and cannot be loaded into {expected.Name}.{Environment.NewLine}" +
                $"  file:  {content.ModelType} (fingerprint {content.Fingerprint}): {content.Architecture}{Environment.NewLine}" +
                $"  model: {expected.Name} (fingerprint {expected.Fingerprint}): {expected.Architecture}{Environment.NewLine}" +
                $"Load it with the model class that saved it ({content.ModelType}), or train {expected.Name} and save it again.");
        }
        if (content.ParameterCount != expected.ParameterCount || content.TrainableParameterCount != expected.TrainableParameterCount)
        {
            throw new ModelFileException(ModelFileError.ParameterCountMismatch, path,
                string.Create(CultureInfo.InvariantCulture,
                    $"Model file '{path}' holds {content.ParameterCount:N0} parameters ({content.TrainableParameterCount:N0} trainable) but {expected.Name} has {expected.ParameterCount:N0} ({expected.TrainableParameterCount:N0} trainable), although the architecture fingerprints match. " +
                    $"The file was written by an inconsistent build: train {expected.Name} and save it again."));
        }
        if (FirstNonFinite(content, expected) is { } bad) throw NonFinite(path, bad);
        return content;
    }

    private static byte[]? Validate(ModelFileContent content)
    {
        if (content.ModelType is null || content.Fingerprint is null || content.Architecture is null)
        {
            throw new ArgumentException("ModelType, Fingerprint and Architecture must not be null.", nameof(content));
        }
        if (content.Parameters is null)
        {
            throw new ArgumentException("Parameters must not be null.", nameof(content));
        }
        if (content.Parameters.Length != content.ParameterCount)
        {
            throw new ArgumentException(
                $"ParameterCount is {content.ParameterCount} but Parameters holds {content.Parameters.Length} floats; they must match.", nameof(content));
        }
        if (content.TrainableParameterCount < 0 || content.TrainableParameterCount > content.ParameterCount)
        {
            throw new ArgumentException(
                $"TrainableParameterCount is {content.TrainableParameterCount}; it must be 0 to ParameterCount ({content.ParameterCount}).", nameof(content));
        }
        if (content.Optimizer is { } o)
        {
            if (o.Kind is null || o.Hyperparameters is null || o.Slots is null)
            {
                throw new ArgumentException("The optimizer state's Kind, Hyperparameters and Slots must not be null.", nameof(content));
            }
            if (o.Slots.Length > ModelFileHeader.MaxSlots)
            {
                throw new ArgumentException($"The optimizer state has {o.Slots.Length} slots; model files hold at most {ModelFileHeader.MaxSlots}.", nameof(content));
            }
            foreach (var (name, _) in o.Hyperparameters)
            {
                if (name is null) throw new ArgumentException("A hyperparameter name is null.", nameof(content));
            }
            for (var i = 0; i < o.Slots.Length; i++)
            {
                if (o.Slots[i] is null || o.Slots[i].Length != content.TrainableParameterCount)
                {
                    throw new ArgumentException(
                        $"Optimizer slot {i} holds {o.Slots[i]?.Length ?? 0} floats; every slot must be as long as the trainable parameters ({content.TrainableParameterCount}).", nameof(content));
                }
            }
        }
        try
        {
            return content.HistoryJson is null ? null : StrictUtf8.GetBytes(content.HistoryJson);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("HistoryJson is not valid Unicode text (it has an unpaired surrogate).", nameof(content), e);
        }
    }

    private static byte[] BuildHeader(ModelFileContent content, byte[]? history)
    {
        var header = new ModelFileHeader
        {
            ModelType = content.ModelType,
            Fingerprint = content.Fingerprint,
            Architecture = content.Architecture,
            ParameterCount = content.ParameterCount,
            TrainableParameterCount = content.TrainableParameterCount,
            SavedAtUtcTicks = content.SavedAt.UtcTicks,
            SavedAtOffsetMinutes = (short)content.SavedAt.TotalOffsetMinutes,
            HistoryLength = history?.Length ?? -1,
        };
        if (content.Optimizer is { } o)
        {
            header.Optimizer = new ModelFileHeader.OptimizerHeader
            {
                Kind = o.Kind,
                Iterations = o.Iterations,
                Hyperparameters = o.Hyperparameters,
                SlotCount = o.Slots.Length,
            };
        }
        return header.Serialize();
    }

    private static void Write(Stream stream, ModelFileContent content, byte[] header, byte[]? history)
    {
        var slots = content.Optimizer?.Slots ?? [];
        var total = PrefixLength + (long)header.Length + 4L * (content.ParameterCount + (long)content.TrainableParameterCount * slots.Length)
            + (history?.Length ?? 0) + ChecksumLength;

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var start = new byte[PrefixLength + header.Length];
        Magic.CopyTo(start);
        BinaryPrimitives.WriteUInt32LittleEndian(start.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(start.AsSpan(12), (ulong)total);
        BinaryPrimitives.WriteUInt32LittleEndian(start.AsSpan(20), (uint)header.Length);
        header.CopyTo(start, PrefixLength);
        Emit(stream, hash, start);
        WriteFloats(stream, hash, content.Parameters);
        foreach (var slot in slots) WriteFloats(stream, hash, slot);
        if (history is not null) Emit(stream, hash, history);
        stream.Write(hash.GetHashAndReset());
    }

    private static void Emit(Stream stream, IncrementalHash hash, ReadOnlySpan<byte> bytes)
    {
        hash.AppendData(bytes);
        stream.Write(bytes);
    }

    private static void WriteFloats(Stream stream, IncrementalHash hash, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            Emit(stream, hash, MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        var buffer = new int[4096];
        for (var i = 0; i < values.Length; i += buffer.Length)
        {
            var n = Math.Min(buffer.Length, values.Length - i);
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(values.AsSpan(i, n)), buffer.AsSpan(0, n));
            Emit(stream, hash, MemoryMarshal.AsBytes(buffer.AsSpan(0, n)));
        }
    }

    private static ModelFileContent ReadFrom(Stream stream, long length, string path)
    {
        if (length == 0)
        {
            throw new ModelFileException(ModelFileError.Truncated, path,
                $"Model file '{path}' is empty (0 bytes): the save or copy that made it did not finish. Save or copy the model again.");
        }

        Span<byte> prefix = stackalloc byte[PrefixLength];
        var got = ReadUpTo(stream, prefix);
        var magicLength = Math.Min(got, Magic.Length);
        if (!prefix[..magicLength].SequenceEqual(Magic[..magicLength]))
        {
            throw new ModelFileException(ModelFileError.NotAModelFile, path,
                $"'{path}' is not a ModelGen model file (it does not start with the model-file signature). Check the path: pass a file written by ModelGen's Save.");
        }
        if (got < PrefixLength)
        {
            throw Truncated(path, length, PrefixLength + ChecksumLength);
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        var declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix[12..]);
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[20..]);
        if (declared > (ulong)length)
        {
            throw Truncated(path, length, declared);
        }
        if (declared < (ulong)length)
        {
            throw Corrupt(path, string.Create(CultureInfo.InvariantCulture, $"it has {(ulong)length - declared} unexpected bytes after its end"));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(prefix);

        if (version != FormatVersion)
        {
            // A damaged version field must not pass for a newer file: the trailing checksum (same in every
            // version) tells them apart.
            if (version > FormatVersion && ChecksumMatches(stream, hash, length - PrefixLength - ChecksumLength))
            {
                throw new ModelFileException(ModelFileError.NewerFormat, path,
                    $"Model file '{path}' was saved by a newer ModelGen (format {version}; this build reads up to {FormatVersion}): update the ModelGen package to load it.");
            }
            throw Corrupt(path, "its format version field is damaged");
        }

        if (headerLength > length - PrefixLength - ChecksumLength)
        {
            throw Corrupt(path, "its header length field is damaged");
        }
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        hash.AppendData(headerBytes);

        ModelFileHeader header;
        try
        {
            header = ModelFileHeader.Deserialize(headerBytes);
        }
        catch (MessagePackSerializationException e)
        {
            throw Corrupt(path, "its header cannot be decoded", e);
        }

        // Bound every section by the real file size before allocating anything for it.
        var slotCount = header.Optimizer?.SlotCount ?? 0;
        var expected = PrefixLength + (long)headerLength + 4L * (header.ParameterCount + (long)header.TrainableParameterCount * slotCount)
            + Math.Max(header.HistoryLength, 0) + ChecksumLength;
        if (expected != length)
        {
            throw Corrupt(path, "its section sizes do not add up to its length");
        }

        var parameters = ReadFloats(stream, hash, header.ParameterCount);
        var slots = new float[slotCount][];
        for (var i = 0; i < slotCount; i++) slots[i] = ReadFloats(stream, hash, header.TrainableParameterCount);
        byte[]? history = null;
        if (header.HistoryLength >= 0)
        {
            history = new byte[header.HistoryLength];
            stream.ReadExactly(history);
            hash.AppendData(history);
        }

        Span<byte> stored = stackalloc byte[ChecksumLength];
        stream.ReadExactly(stored);
        Span<byte> actual = stackalloc byte[ChecksumLength];
        hash.GetHashAndReset(actual);
        if (!stored.SequenceEqual(actual))
        {
            throw Corrupt(path, "its SHA-256 checksum does not match its content");
        }

        string? historyJson;
        try
        {
            historyJson = history is null ? null : StrictUtf8.GetString(history);
        }
        catch (DecoderFallbackException e)
        {
            throw Corrupt(path, "its training history is not valid UTF-8", e);
        }

        DateTimeOffset savedAt;
        try
        {
            savedAt = new DateTimeOffset(header.SavedAtUtcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(header.SavedAtOffsetMinutes));
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw Corrupt(path, "its saved-at time is out of range", e);
        }

        return new ModelFileContent
        {
            ModelType = header.ModelType,
            Fingerprint = header.Fingerprint,
            Architecture = header.Architecture,
            ParameterCount = header.ParameterCount,
            TrainableParameterCount = header.TrainableParameterCount,
            Parameters = parameters,
            Optimizer = header.Optimizer is { } o ? new OptimizerState(o.Kind, o.Iterations, o.Hyperparameters, slots) : null,
            HistoryJson = historyJson,
            SavedAt = savedAt,
        };
    }

    private static float[] ReadFloats(Stream stream, IncrementalHash hash, int count)
    {
        var values = new float[count];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        stream.ReadExactly(bytes);
        hash.AppendData(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            var ints = MemoryMarshal.Cast<float, int>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(ints, ints);
        }
        return values;
    }

    private static bool ChecksumMatches(Stream stream, IncrementalHash hash, long remaining)
    {
        var buffer = new byte[81920];
        while (remaining > 0)
        {
            var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (n == 0) throw new EndOfStreamException();
            hash.AppendData(buffer, 0, n);
            remaining -= n;
        }
        Span<byte> stored = stackalloc byte[ChecksumLength];
        stream.ReadExactly(stored);
        return stored.SequenceEqual(hash.GetHashAndReset());
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static ModelFileException Truncated(string path, long actual, ulong declared) =>
        new(ModelFileError.Truncated, path, string.Create(CultureInfo.InvariantCulture,
            $"Model file '{path}' is truncated: it has {actual:N0} bytes but should have {declared:N0} (an interrupted copy, download or disk write). Copy or save the model again."));

    private static ModelFileException Corrupt(string path, string what, Exception? inner = null)
    {
        var message = $"Model file '{path}' is corrupt: {what}. It was damaged after it was saved (disk or transfer error, or edited); restore it from a backup or train and save the model again.";
        return inner is null
            ? new ModelFileException(ModelFileError.Corrupt, path, message)
            : new ModelFileException(ModelFileError.Corrupt, path, message, inner);
    }

    private static ModelFileException NonFinite(string path, string what) =>
        new(ModelFileError.NonFiniteValue, path,
            $"Model file '{path}' cannot be loaded: its {what}. ModelGen saves finite numbers only, so the file was written elsewhere or edited; " +
            "load another model file, or train the model again and save it.");

    private static ModelFileException Unreadable(string path, Exception e) =>
        new(ModelFileError.Unreadable, path, $"Model file '{path}' cannot be read: {e.Message} Check its permissions and that the disk is accessible.", e);
}

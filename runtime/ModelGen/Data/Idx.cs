using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Globalization;
using System.Linq;

namespace ModelGen;

/// <summary>The content of an IDX file: its dimensions (outermost first) and its unsigned bytes, row-major.</summary>
/// <param name="Dimensions">Dimensions, outermost first (for MNIST images: count, rows, columns).</param>
/// <param name="Data">The values, row-major; its length is the product of <paramref name="Dimensions"/>.</param>
public sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// Reads and writes IDX files (the format of MNIST and Fashion-MNIST), raw or gzip-compressed.
/// Only unsigned-byte data (type 0x08) is supported, with 1 to 4 dimensions.
/// </summary>
public static class Idx
{
    /// <summary>The IDX type code of unsigned bytes, the only type read and written here.</summary>
    public const byte UnsignedByteType = 0x08;

    /// <summary>The largest number of dimensions accepted.</summary>
    public const int MaxRank = 4;

    /// <summary>
    /// The most data bytes <see cref="Read(string)"/> accepts unless told otherwise: 256 MiB, over five times the largest
    /// MNIST-family file (47 MB). A header announcing more is refused before anything is allocated or decompressed, so a
    /// damaged header or a small gzip bomb cannot exhaust memory.
    /// </summary>
    public const long DefaultMaxBytes = 256L << 20;

    // Past the data, at most this much is read to report trailing bytes: a gzip stream can inflate without end.
    private const int TrailingProbe = 1 << 20;

    /// <summary>
    /// Reads the IDX file at <paramref name="path"/>, raw or gzip (recognised by its content, not its name).
    /// </summary>
    /// <exception cref="IdxFormatException">The file is not a valid unsigned-byte IDX file, its gzip data is corrupt, or its header announces more than <see cref="DefaultMaxBytes"/>.</exception>
    /// <exception cref="DataUnavailableException">The file does not exist, cannot be opened, or is not a regular file (a FIFO, pipe or device).</exception>
    public static IdxArray Read(string path) => Read(path, DefaultMaxBytes);

    /// <summary>Reads the IDX file at <paramref name="path"/> as <see cref="Read(string)"/> does, accepting up to <paramref name="maxBytes"/> bytes of data.</summary>
    /// <exception cref="IdxFormatException">The file is not a valid unsigned-byte IDX file, its gzip data is corrupt, or its header announces more than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="DataUnavailableException">The file does not exist, cannot be opened, or is not a regular file (a FIFO, pipe or device).</exception>
    public static IdxArray Read(string path, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream file;
        try
        {
            file = RegularFile.OpenRead(path);
        }
        catch (NotARegularFileException e)
        {
            throw new DataUnavailableException($"{path}: cannot read it as an IDX file: {e.Message}. Pass the path of an IDX file (raw or .gz).");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataUnavailableException($"{path}: cannot open the IDX file: {e.Message} Check the path and the file's permissions.");
        }
        using (file)
        {
            return Read(file, path, maxBytes);
        }
    }

    /// <summary>
    /// Reads one IDX array from <paramref name="stream"/> (raw or gzip) to its end. <paramref name="name"/>
    /// names the data in error messages (default: the file name of a <see cref="FileStream"/>, else "IDX stream").
    /// </summary>
    /// <exception cref="IdxFormatException">The data is not a valid unsigned-byte IDX array, its gzip data is corrupt, or its header announces more than <paramref name="maxBytes"/>.</exception>
    public static IdxArray Read(Stream stream, string? name = null, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        name ??= stream is FileStream fs ? fs.Name : "IDX stream";
        bool gzip;
        Stream data;
        try
        {
            data = OpenUncompressed(stream, leaveOpen: true, out gzip);
        }
        catch (IOException e)
        {
            throw new IdxFormatException(name, $"cannot read the data: {e.Message}", e);
        }
        using (data)
        {
            try
            {
                return ReadUncompressed(data, name, maxBytes);
            }
            catch (InvalidDataException e) when (gzip)
            {
                throw new IdxFormatException(name,
                    $"corrupt gzip data ({e.Message}). The file is damaged: download it again, or use an uncompressed copy.", e);
            }
        }
    }

    /// <summary>
    /// Writes an unsigned-byte IDX array: the magic (0x00 0x00 0x08 rank), big-endian dimensions, then <paramref name="data"/>.
    /// With <paramref name="gzip"/> the whole file is gzip-compressed, as the public MNIST mirrors serve it.
    /// <paramref name="stream"/> is left open.
    /// </summary>
    /// <exception cref="ArgumentException">The rank is not 1..4, a dimension is not positive, or the data length is not their product.</exception>
    public static void Write(Stream stream, int[] dimensions, ReadOnlySpan<byte> data, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (dimensions.Length is < 1 or > MaxRank)
        {
            throw new ArgumentException($"An IDX array has 1 to {MaxRank} dimensions, not {dimensions.Length}.", nameof(dimensions));
        }
        long total = 1;
        foreach (var d in dimensions)
        {
            if (d <= 0) throw new ArgumentException($"IDX dimensions must be positive; got {FormatDims(dimensions)}.", nameof(dimensions));
            total *= d;
            if (total > Array.MaxLength) throw new ArgumentException($"Dimensions {FormatDims(dimensions)} are too large for one array.", nameof(dimensions));
        }
        if (total != data.Length)
        {
            throw new ArgumentException($"Dimensions {FormatDims(dimensions)} need {total} bytes but {data.Length} were given.", nameof(data));
        }

        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = UnsignedByteType;
        header[3] = (byte)dimensions.Length;
        for (var i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dimensions[i]);
        }

        if (gzip)
        {
            using var z = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
            z.Write(header);
            z.Write(data);
        }
        else
        {
            stream.Write(header);
            stream.Write(data);
        }
    }

    /// <summary>
    /// Returns a stream of the uncompressed bytes of <paramref name="source"/>: gunzipped when it starts with the
    /// gzip magic (0x1f 0x8b), as is otherwise.
    /// </summary>
    internal static Stream OpenUncompressed(Stream source, bool leaveOpen, out bool gzip)
    {
        var head = new byte[2];
        var n = source.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        gzip = n == 2 && head[0] == 0x1f && head[1] == 0x8b;
        var whole = new PrefixedStream(head[..n], source, leaveOpen);
        return gzip ? new GZipStream(whole, CompressionMode.Decompress, leaveOpen: false) : whole;
    }

    /// <summary>Asynchronous form of <see cref="OpenUncompressed"/> for network streams.</summary>
    internal static async Task<Stream> OpenUncompressedAsync(Stream source, bool leaveOpen, CancellationToken cancellationToken)
    {
        var head = new byte[2];
        var n = await source.ReadAtLeastAsync(head, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var gzip = n == 2 && head[0] == 0x1f && head[1] == 0x8b;
        var whole = new PrefixedStream(head[..n], source, leaveOpen);
        return gzip ? new GZipStream(whole, CompressionMode.Decompress, leaveOpen: false) : whole;
    }

    private static IdxArray ReadUncompressed(Stream s, string name, long maxBytes)
    {
        Span<byte> magic = stackalloc byte[4];
        var got = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got == 0)
        {
            throw new IdxFormatException(name, "the file is empty. Download it again.");
        }
        if (got < 4)
        {
            throw new IdxFormatException(name, $"truncated: the file holds {got} bytes, less than an IDX header. Download it again.");
        }
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new IdxFormatException(name,
                $"not an IDX file: it starts with 0x{magic[0]:x2} 0x{magic[1]:x2}, an IDX file starts with 0x00 0x00 " +
                "(then the type and the rank). Check that this is the right file.");
        }
        if (magic[2] != UnsignedByteType)
        {
            throw new IdxFormatException(name,
                $"data type 0x{magic[2]:x2} ({TypeName(magic[2])}) is not supported: only unsigned bytes (type 0x08, as in MNIST) are read.");
        }
        int rank = magic[3];
        if (rank is < 1 or > MaxRank)
        {
            throw new IdxFormatException(name, $"rank {rank} is not supported: an IDX array here has 1 to {MaxRank} dimensions. The header is damaged or this is not an image/label file.");
        }

        Span<byte> dimBytes = stackalloc byte[4 * MaxRank];
        dimBytes = dimBytes[..(4 * rank)];
        got = s.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length)
        {
            throw new IdxFormatException(name, $"truncated: the header announces {rank} dimensions but the file ends after {got} of their {dimBytes.Length} bytes. Download it again.");
        }
        var dims = new int[rank];
        double total = 1;
        for (var i = 0; i < rank; i++)
        {
            var d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes[(4 * i)..]);
            if (d == 0 || d > int.MaxValue)
            {
                throw new IdxFormatException(name, $"dimension {i} is {d}: every dimension must be a positive size. The header is damaged.");
            }
            dims[i] = (int)d;
            total *= d;
        }
        if (total > Math.Min(maxBytes, Array.MaxLength))
        {
            // Name the largest dimension: it is the one that is damaged (a count of a billion images, say).
            var largest = Array.IndexOf(dims, dims.Max());
            throw new IdxFormatException(name, string.Create(CultureInfo.InvariantCulture,
                $"the header announces {FormatDims(dims)} = {total:N0} bytes of data, but an IDX file read here holds at most {Math.Min(maxBytes, Array.MaxLength):N0} bytes " +
                $"(dimension {largest} is {dims[largest]}). The header is damaged or this is not the right file; if it is, pass a larger maxBytes to Idx.Read."));
        }

        // Grow as data arrives, so a damaged header cannot make us allocate gigabytes up front.
        var expected = (int)total;
        var buffer = new byte[Math.Min(expected, 1 << 24)];
        var filled = 0;
        while (filled < expected)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(expected, 2L * buffer.Length));
            var r = s.Read(buffer, filled, buffer.Length - filled);
            if (r == 0) break;
            filled += r;
        }
        if (filled < expected)
        {
            throw new IdxFormatException(name, $"truncated: header says {Describe(dims)}, file holds {filled} bytes of data. The file is incomplete: download it again.");
        }

        long trailing = 0;
        var scratch = new byte[1 << 16];
        int t;
        while (trailing < TrailingProbe && (t = s.Read(scratch)) > 0) trailing += t;
        if (trailing > 0)
        {
            var holds = trailing < TrailingProbe ? $"file holds {expected + trailing}" : $"file holds more than {expected + trailing}";
            throw new IdxFormatException(name,
                $"{(trailing < TrailingProbe ? "" : "at least ")}{trailing} trailing bytes: header says {Describe(dims)} ({expected} bytes of data), {holds}. " +
                "The header does not match the data: check that this is the right file, or download it again.");
        }
        return new IdxArray(dims, buffer);
    }

    private static string Describe(int[] dims) =>
        dims.Length == 1
            ? $"{dims[0]} items"
            : $"{dims[0]} items of {FormatDims(dims.AsSpan(1))} bytes";

    internal static string FormatDims(ReadOnlySpan<int> dims)
    {
        var parts = new string[dims.Length];
        for (var i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Join("x", parts);
    }

    private static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "unknown type",
    };
}

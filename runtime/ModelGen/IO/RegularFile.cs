using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace ModelGen;

/// <summary>
/// Opens files for reading the way every ModelGen reader does: only regular files (symbolic links are followed), and
/// only up to a size bound. A FIFO is refused before it is opened, since opening one blocks until some other process
/// writes to it; pipes, sockets and devices are refused too, since they have no size and some never end (/dev/zero).
/// </summary>
public static partial class RegularFile
{
    /// <summary>Opens <paramref name="path"/> for reading after checking that it is a regular file.</summary>
    /// <exception cref="NotARegularFileException">The path is a folder, FIFO, pipe, socket or device.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static FileStream OpenRead(string path, bool useAsync = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new NotARegularFileException(path, "a folder");
        if (KindOf(path) is { } kind) throw new NotARegularFileException(path, kind);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
            useAsync ? FileOptions.Asynchronous | FileOptions.SequentialScan : FileOptions.SequentialScan);
        if (!stream.CanSeek)
        {
            // Where the type cannot be asked before opening, a pipe still shows itself here.
            stream.Dispose();
            throw new NotARegularFileException(path, "a pipe or another stream without a size");
        }

        return stream;
    }

    /// <summary>Reads all of <paramref name="path"/>, a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="FileTooLargeException">The file holds more than <paramref name="maxBytes"/> bytes.</exception>
    /// <exception cref="NotARegularFileException">The path is a folder, FIFO, pipe, socket or device.</exception>
    /// <exception cref="IOException">The file does not exist or cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        using var stream = OpenRead(path);
        var length = stream.Length;
        if (length > maxBytes) throw new FileTooLargeException(path, maxBytes);

        // The size is a hint only: some regular files (under /proc) report 0 and still hold text.
        var buffer = new byte[(int)Math.Min(Math.Min(Math.Max(length, 1 << 12), maxBytes + 1), Array.MaxLength)];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length > maxBytes) throw new FileTooLargeException(path, maxBytes);
                Array.Resize(ref buffer, (int)Math.Min(Math.Min(2L * buffer.Length, maxBytes + 1), Array.MaxLength));
            }

            var n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) break;
            filled += n;
        }

        if (filled > maxBytes) throw new FileTooLargeException(path, maxBytes);
        return filled == buffer.Length ? buffer : buffer[..filled];
    }

    /// <summary>Reads <paramref name="path"/> as UTF-8 text (a byte-order mark is skipped), at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="FileTooLargeException">The file holds more than <paramref name="maxBytes"/> bytes.</exception>
    /// <exception cref="NotARegularFileException">The path is a folder, FIFO, pipe, socket or device.</exception>
    /// <exception cref="IOException">The file does not exist or cannot be read.</exception>
    public static string ReadAllText(string path, long maxBytes)
    {
        var bytes = ReadAllBytes(path, maxBytes);
        var skip = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        return Encoding.UTF8.GetString(bytes, skip, bytes.Length - skip);
    }

    /// <summary>What <paramref name="path"/> is when it is not a regular file ("a FIFO (named pipe)", ...); null for a regular file or when unknown.</summary>
    internal static string? KindOf(string path)
    {
        if (!OperatingSystem.IsLinux()) return null; // elsewhere the CanSeek check after opening catches pipes
        Span<byte> status = stackalloc byte[256]; // struct statx, 256 bytes on every Linux architecture
        int result;
        try
        {
            result = Statx(AtFdCwd, path, 0, StatxType, status);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // a C library without statx (glibc before 2.28)
        }

        if (result != 0) return null; // missing or unreadable: opening it reports that
        var mode = BitConverter.ToUInt16(status[28..30]); // stx_mode
        return (mode & 0xF000) switch
        {
            0x8000 => null,
            0x4000 => "a folder",
            0x1000 => IsDescriptorPath(path) ? "a pipe" : "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => "a special file",
        };
    }

    // /dev/stdin, /dev/fd/N and /proc/self/fd/N name an open descriptor: a FIFO there is a shell pipe.
    private static bool IsDescriptorPath(string path) =>
        path.StartsWith("/dev/std", StringComparison.Ordinal) || path.StartsWith("/dev/fd/", StringComparison.Ordinal)
        || path.StartsWith("/proc/", StringComparison.Ordinal) && path.Contains("/fd/", StringComparison.Ordinal);

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, Span<byte> status);
}

/// <summary>A path names something other than a regular file (a folder, FIFO, pipe, socket or device), which ModelGen does not read.</summary>
public sealed class NotARegularFileException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/>, which is <paramref name="kind"/> (e.g. "a FIFO (named pipe)").</summary>
    public NotARegularFileException(string path, string kind)
        : base($"'{path}' is {kind}, not a regular file")
    {
        FilePath = path;
        Kind = kind;
    }

    /// <summary>The path as given.</summary>
    public string FilePath { get; }

    /// <summary>What the path is, e.g. "a FIFO (named pipe)" or "a character device".</summary>
    public string Kind { get; }
}

/// <summary>A file is larger than its reader accepts for what it should hold.</summary>
public sealed class FileTooLargeException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/>, which holds more than <paramref name="maxBytes"/> bytes.</summary>
    public FileTooLargeException(string path, long maxBytes)
        : base(string.Create(CultureInfo.InvariantCulture, $"'{path}' holds more than {maxBytes:N0} bytes, more than such a file can hold"))
    {
        FilePath = path;
        MaxBytes = maxBytes;
    }

    /// <summary>The path as given.</summary>
    public string FilePath { get; }

    /// <summary>The most bytes the reader accepts.</summary>
    public long MaxBytes { get; }
}

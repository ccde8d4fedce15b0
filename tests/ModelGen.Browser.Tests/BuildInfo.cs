using System.Reflection;

namespace ModelGen.Browser.Tests;

/// <summary>What the build recorded about itself (see the project file).</summary>
internal static class BuildInfo
{
    /// <summary>The folder holding ModelGen.sln.</summary>
    public static string RepositoryRoot { get; } = Find();

    /// <summary>The configuration this test was built in (Release in CI): the page is published in the same one.</summary>
    public static string Configuration { get; } = Metadata("Configuration");

    private static string Metadata(string key) =>
        typeof(BuildInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no '{key}' metadata; build it with its project file.");

    private static string Find()
    {
        var recorded = Metadata("RepositoryRoot");
        if (File.Exists(Path.Combine(recorded, "ModelGen.sln"))) return Path.GetFullPath(recorded);
        throw new InvalidOperationException($"ModelGen.sln not found in the recorded repository root '{recorded}'.");
    }
}

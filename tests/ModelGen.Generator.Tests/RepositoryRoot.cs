using System.Reflection;

namespace ModelGen.Generator.Tests;

internal static class RepositoryRoot
{
    /// <summary>The folder holding ModelGen.sln, recorded at build time (see the test project file).</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        var recorded = typeof(RepositoryRoot).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (recorded is not null && File.Exists(System.IO.Path.Combine(recorded, "ModelGen.sln"))) return System.IO.Path.GetFullPath(recorded);
        throw new InvalidOperationException($"ModelGen.sln not found in the recorded repository root '{recorded}'.");
    }
}

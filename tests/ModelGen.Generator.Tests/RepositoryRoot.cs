namespace ModelGen.Generator.Tests;

internal static class RepositoryRoot
{
    /// <summary>The folder holding ModelGen.sln, found upwards from the test binaries.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "ModelGen.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("ModelGen.sln not found above " + AppContext.BaseDirectory);
    }
}

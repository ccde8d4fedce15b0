using System.Xml.Linq;

namespace ModelGen.Package.Tests;

/// <summary>
/// A folder outside the repository where fresh consumer projects restore ModelGen from the freshly packed feed only, into
/// their own NuGet packages folder, so a cached ModelGen of the same version can never stand in for the one just packed.
/// </summary>
public sealed class ConsumerFixture : IDisposable
{
    private readonly string _feed;

    public ConsumerFixture(string feed)
    {
        _feed = feed;
        Root = Directory.CreateTempSubdirectory("modelgen-consumer-").FullName;
        PackagesFolder = Path.Combine(Root, "nuget-packages");

        // Stop MSBuild's and NuGet's upward searches here: nothing from the temp folder's parents may apply.
        File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "nuget.config"), NuGetConfig(feed));
        Environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = PackagesFolder };
    }

    public string Root { get; }

    /// <summary>The consumers' own global packages folder.</summary>
    public string PackagesFolder { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>
    /// A new console project that references the ModelGen package (and the optional packages named in
    /// <paramref name="optionalPackages"/>, e.g. ModelGen.Plotting, at the same version), with the given source files.
    /// </summary>
    public string CreateProject(string name, IReadOnlyDictionary<string, string> files, params string[] optionalPackages)
    {
        var references = string.Concat(optionalPackages.Select(id =>
            $"\n        <PackageReference Include=\"{id}\" Version=\"{PackageUnderTest.Version}\" />"));
        var folder = Directory.CreateDirectory(Path.Combine(Root, name)).FullName;
        File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="{PackageUnderTest.Version}" />{references}
              </ItemGroup>
            </Project>
            """);
        foreach (var (file, text) in files) File.WriteAllText(Path.Combine(folder, file), text);
        return folder;
    }

    /// <summary>
    /// The repository's remote package sources, plus this machine's packages folder as a read-only source for the
    /// third-party packages (fast, and offline once restored). Source mapping takes ModelGen (and ModelGen.Gpu, ModelGen.Plotting) from the fresh feed
    /// and nowhere else; the repository's local folders (artifacts/packages) are left out, they may hold an older pack.
    /// </summary>
    private static string NuGetConfig(string feed)
    {
        var localFeed = Path.GetFullPath(feed).TrimEnd(Path.DirectorySeparatorChar);
        var repository = XDocument.Load(Path.Combine(PackageUnderTest.RepositoryRoot, "nuget.config"));
        var sources = new List<(string Key, string Value)>();
        foreach (var add in repository.Descendants("packageSources").Elements("add"))
        {
            var value = add.Attribute("value")!.Value;
            if (value.Contains("://", StringComparison.Ordinal)) sources.Add((add.Attribute("key")!.Value, value));
        }

        var machinePackages = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        if (Directory.Exists(machinePackages)) sources.Insert(0, ("machine-packages", machinePackages));

        var config = new XElement("configuration",
            new XElement("packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "modelgen-local"), new XAttribute("value", localFeed)),
                sources.Select(s => new XElement("add", new XAttribute("key", s.Key), new XAttribute("value", s.Value)))),
            new XElement("packageSourceMapping",
                new XElement("packageSource", new XAttribute("key", "modelgen-local"),
                    new XElement("package", new XAttribute("pattern", "ModelGen")),
                    new XElement("package", new XAttribute("pattern", "ModelGen.Gpu")),
                    new XElement("package", new XAttribute("pattern", "ModelGen.Plotting"))),
                sources.Select(s => new XElement("packageSource", new XAttribute("key", s.Key),
                    new XElement("package", new XAttribute("pattern", "*"))))));
        return config.ToString();
    }

    /// <summary>The packages (id, lower case) in the restore graph of the consumer in <paramref name="project"/>: obj/project.assets.json's libraries.</summary>
    public static IReadOnlyList<string> RestoredPackages(string project)
    {
        using var assets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "obj", "project.assets.json")));
        return [.. assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(library => library.Name[..library.Name.IndexOf('/')].ToLowerInvariant())
            .Order()];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file for a moment; the temp folder is cleaned by the system later.
        }
    }
}

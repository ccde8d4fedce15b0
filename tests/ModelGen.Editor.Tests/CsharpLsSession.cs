using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace ModelGen.Editor.Tests;

/// <summary>
/// csharp-ls 0.28.0 (from the repository's tool manifest, restored here) running on a fresh consumer project that
/// references the ModelGen runtime and, as analyzers, the generator and code fixes built with these tests — the set-up
/// of a user whose editor (Neovim, Helix, Emacs, …) uses csharp-ls with <c>csharp.analyzersEnabled: true</c>.
/// </summary>
public sealed class CsharpLsSession : IAsyncLifetime
{
    /// <summary>Restoring the tool and the consumer, starting the server and loading the project: minutes at worst on a busy machine.</summary>
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromMinutes(3);

    public const string ModelFile = "LeNet5.cs";

    /// <summary>The tutorial's LeNet-5, as the user starts from.</summary>
    public const string ValidModel = """
        using ModelGen;

        namespace Consumer;

        [Sequential(28, 28, 1)]
        [Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
        [MaxPool2D(2)]
        [Conv2D(16, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
        [MaxPool2D(2)]
        [Flatten]
        [Dense(120, Activation = Activation.Tanh)]
        [Dense(84, Activation = Activation.Tanh)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5;

        """;

    private const string Program = """
        using Consumer;

        var model = new LeNet5(seed: 1);
        Console.WriteLine($"{LeNet5.ParameterCount} parameters; class of a blank image: {model.PredictClass(new float[LeNet5.InputLength])}");

        """;

    private string _folder = "";
    private int _version = 1;

    internal LspClient Client { get; private set; } = null!;

    public string ModelUri { get; private set; } = "";

    /// <summary>How long the server took from start to the first diagnostics of the model file.</summary>
    public TimeSpan FirstDiagnosticsAfter { get; private set; }

    public async Task InitializeAsync()
    {
        var repository = RepositoryRoot();
        Run(repository, "tool", "restore");

        _folder = Directory.CreateTempSubdirectory("modelgen-editor-").FullName;
        WriteConsumer(_folder);
        Run(_folder, "restore");

        var start = DotnetStartInfo(repository, "tool", "run", "csharp-ls");
        var clock = Stopwatch.StartNew();
        Client = new LspClient(start, new JsonObject { ["csharp"] = Settings() });
        var root = new Uri(_folder + Path.DirectorySeparatorChar).AbsoluteUri.TrimEnd('/');
        ModelUri = new Uri(Path.Combine(_folder, ModelFile)).AbsoluteUri;
        await Client.RequestAsync("initialize", new JsonObject
        {
            ["processId"] = Environment.ProcessId,
            ["rootUri"] = root,
            ["workspaceFolders"] = new JsonArray(new JsonObject { ["uri"] = root, ["name"] = "consumer" }),
            ["capabilities"] = new JsonObject
            {
                ["workspace"] = new JsonObject { ["configuration"] = true },
                ["textDocument"] = new JsonObject
                {
                    ["hover"] = new JsonObject { ["contentFormat"] = new JsonArray("markdown", "plaintext") },
                    ["publishDiagnostics"] = new JsonObject(),
                },
            },
        }, LoadTimeout, "the reply to 'initialize'");
        await Client.NotifyAsync("initialized", new JsonObject());
        await Client.NotifyAsync("workspace/didChangeConfiguration", new JsonObject { ["settings"] = new JsonObject { ["csharp"] = Settings() } });
        await Client.NotifyAsync("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = ModelUri, ["languageId"] = "csharp", ["version"] = _version, ["text"] = ValidModel },
        });
        await Client.WaitForNotificationAsync("textDocument/publishDiagnostics", 0, IsForModel, LoadTimeout,
            $"the first diagnostics of {ModelFile} (the server loads the consumer project and runs the generator and analyzer)");
        FirstDiagnosticsAfter = clock.Elapsed;
    }

    /// <summary>The only setting the MG squiggles need: csharp-ls runs analyzers only when asked to.</summary>
    private static JsonObject Settings() => new() { ["analyzersEnabled"] = true };

    public bool IsForModel(JsonObject publish) => (string?)publish["uri"] == ModelUri;

    /// <summary>Replaces the whole model file as an editor's didChange does; returns the notification count before it.</summary>
    public async Task<int> ChangeModelAsync(string text)
    {
        var before = Client.NotificationCount;
        await Client.NotifyAsync("textDocument/didChange", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = ModelUri, ["version"] = ++_version },
            ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = text }),
        });
        return before;
    }

    private static void WriteConsumer(string folder)
    {
        // Nothing from the temp folder's parents may apply (no Directory.Build.*, no package source: nothing to restore).
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), "<configuration><packageSources><clear /></packageSources></configuration>\n");

        // The runtime and what it references (ILGPU, MessagePack, ...) from this test's output folder; the generator and
        // code fixes as analyzers, where the test project copied them (as the package's analyzers/dotnet/cs does).
        var output = AppContext.BaseDirectory;
        var runtime = typeof(SequentialAttribute).Assembly;
        var references = new List<string> { runtime.Location };
        foreach (var name in runtime.GetReferencedAssemblies())
        {
            var path = Path.Combine(output, name.Name + ".dll");
            if (File.Exists(path) && !references.Contains(path)) references.Add(path);
        }

        var analyzers = Directory.GetFiles(Path.Combine(output, "analyzers"), "*.dll");
        Assert.Contains(analyzers, a => Path.GetFileName(a) == "ModelGen.Generator.dll");
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
            {string.Concat(references.Select(r => $"    <Reference Include=\"{r}\" />\n"))}{string.Concat(analyzers.Select(a => $"    <Analyzer Include=\"{a}\" />\n"))}  </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, ModelFile), ValidModel);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), Program);
    }

    private static string RepositoryRoot()
    {
        var recorded = typeof(CsharpLsSession).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepositoryRoot").Value!;
        Assert.True(File.Exists(Path.Combine(recorded, "dotnet-tools.json")), $"no dotnet-tools.json in {recorded}");
        return recorded;
    }

    /// <summary>The dotnet CLI without the test host's MSBuild variables, which would point it at the wrong SDK pieces.</summary>
    private static ProcessStartInfo DotnetStartInfo(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }

    private static void Run(string directory, params string[] arguments)
    {
        var start = DotnetStartInfo(directory, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish in 5 minutes in {directory}");
        }

        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed in {directory}:\n{stdout.Result}{stderr.Result}");
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
        {
            try
            {
                await Client.RequestAsync("shutdown", null, TimeSpan.FromSeconds(10), "the reply to 'shutdown'");
                await Client.NotifyAsync("exit", new JsonObject());
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
            {
                // Dispose kills it.
            }

            Client.Dispose();
        }

        try
        {
            if (_folder.Length > 0) Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // The temp folder is cleaned by the system later.
        }
    }
}

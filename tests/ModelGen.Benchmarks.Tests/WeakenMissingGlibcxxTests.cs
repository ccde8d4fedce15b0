using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace ModelGen.Benchmarks.Tests;

/// <summary>
/// benchmarks/TorchSharpPeer/weaken_missing_glibcxx.py on two small libraries built here with g++: each refers to
/// std::__istream_extract (GLIBCXX_3.4.29, which this machine's libstdc++ defines), one calling it and one only listing
/// it (a bare .globl, as GCC 13's &lt;iostream&gt; lists std::ios_base_library_init). Renaming that version to one no
/// libstdc++ defines gives exactly TorchSharp's situation on Debian 12.
/// </summary>
public sealed class WeakenMissingGlibcxxTests : IDisposable
{
    private const string RealVersion = "GLIBCXX_3.4.29";
    private const string MissingVersion = "GLIBCXX_3.4.99";
    private const string Symbol = "_ZSt17__istream_extractRSiPcl";

    private const string CallsIt = """
        #include <istream>
        namespace std { void __istream_extract(istream&, char*, streamsize); }
        void read_word(std::istream& in, char* out) { std::__istream_extract(in, out, 16); }
        """;

    private const string OnlyListsIt = """
        #include <string>
        std::string greet(const std::string& name) { return "hello " + name; }
        asm(".globl _ZSt17__istream_extractRSiPcl");
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("modelgen-glibcxx-").FullName;

    private static string Script { get; } = Path.Combine(
        typeof(WeakenMissingGlibcxxTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!,
        "benchmarks", "TorchSharpPeer", "weaken_missing_glibcxx.py");

    [Fact]
    public void LibraryThatCallsASymbolOfAMissingVersion_IsRefusedAndLeftUnchanged()
    {
        var library = BuildLibrary("calls", CallsIt, renameVersion: true);
        var before = File.ReadAllBytes(library);
        Assert.False(NativeLibrary.TryLoad(library, out _), "the renamed version should keep the library from loading");

        var (exitCode, output) = Run("python3", Script, library);

        Assert.Equal(1, exitCode);
        Assert.Contains("refusing to patch", output);
        Assert.Contains(Symbol, output);
        Assert.Contains(MissingVersion, output);
        Assert.Equal(before, File.ReadAllBytes(library));
    }

    [Fact]
    public void LibraryThatOnlyListsASymbolOfAMissingVersion_IsMarkedWeakAndLoads_AndItsOtherHardLinksKeepTheirBytes()
    {
        var library = BuildLibrary("lists", OnlyListsIt, renameVersion: true);
        var cached = Path.Combine(_folder, "cached-copy.so");
        var (linked, linkOutput) = Run("ln", library, cached); // the NuGet cache's file, when a build hard-links instead of copying
        Assert.True(linked == 0, linkOutput);
        var before = File.ReadAllBytes(library);
        Assert.False(NativeLibrary.TryLoad(library, out _), "the renamed version should keep the library from loading");

        var (exitCode, output) = Run("python3", Script, library);

        Assert.True(exitCode == 0, output);
        Assert.Contains($"{MissingVersion} is missing", output);
        Assert.Contains("marking it weak", output);
        Assert.True(NativeLibrary.TryLoad(library, out var handle), "the patched library should load");
        NativeLibrary.Free(handle);

        // Only the flags of that one requirement changed (VER_FLG_WEAK is bit 1 of a 16-bit field).
        var after = File.ReadAllBytes(library);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.Single(changed);
        Assert.Equal(before[changed[0]] | 0x2, after[changed[0]]);
        Assert.Equal(before, File.ReadAllBytes(cached));

        // A second run finds nothing left to do.
        var (again, againOutput) = Run("python3", Script, library);
        Assert.True(again == 0, againOutput);
        Assert.Contains("nothing to do", againOutput);
        Assert.Equal(after, File.ReadAllBytes(library));
    }

    [Fact]
    public void LibraryWhoseVersionsTheHostDefines_IsLeftAlone()
    {
        var library = BuildLibrary("fine", CallsIt, renameVersion: false);
        var before = File.ReadAllBytes(library);

        var (exitCode, output) = Run("python3", Script, library);

        Assert.True(exitCode == 0, output);
        Assert.Contains("nothing to do", output);
        Assert.Equal(before, File.ReadAllBytes(library));
    }

    /// <summary>Builds a stripped shared library (one string table to edit); optionally renames its use of <see cref="RealVersion"/>.</summary>
    private string BuildLibrary(string name, string source, bool renameVersion)
    {
        var cpp = Path.Combine(_folder, name + ".cpp");
        var library = Path.Combine(_folder, $"lib{name}.so");
        File.WriteAllText(cpp, source);
        var (exitCode, output) = Run("g++", "-shared", "-fPIC", "-s", "-o", library, cpp);
        Assert.True(exitCode == 0, "g++ failed:\n" + output);
        var bytes = File.ReadAllBytes(library);
        var real = Encoding.ASCII.GetBytes(RealVersion + "\0");
        var at = bytes.AsSpan().IndexOf(real);
        Assert.True(at >= 0, $"lib{name}.so does not require {RealVersion}; the test's premise is gone");
        Assert.Equal(-1, bytes.AsSpan(at + 1).IndexOf(real));
        if (renameVersion)
        {
            Encoding.ASCII.GetBytes(MissingVersion).CopyTo(bytes, at);
            File.WriteAllBytes(library, bytes);
        }

        return library;
    }

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish in 2 minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder does not make a test wrong.
        }
    }
}

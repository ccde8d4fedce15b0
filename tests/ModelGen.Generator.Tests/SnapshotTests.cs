namespace ModelGen.Generator.Tests;

/// <summary>
/// The code generated for the LeNet5 sample is checked in under Snapshots/ and compared on every run, so any change
/// to generated code shows up as a reviewable diff. Set MODELGEN_ACCEPT_SNAPSHOTS=1 to write the new baselines.
/// </summary>
public class SnapshotTests
{
    private static readonly string SnapshotFolder = Path.Combine(RepositoryRoot.Path, "tests", "ModelGen.Generator.Tests", "Snapshots");

    [Fact]
    public void LeNet5_GeneratedCode_MatchesBaselines()
    {
        var sample = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "LeNet5", "LeNet5.cs"));
        // The sample references ModelGen.Gpu, so its GPU kernels are part of the baseline.
        var run = GeneratorHarness.RunWithGpu(sample);
        Assert.Empty(run.Errors);
        var accept = Environment.GetEnvironmentVariable("MODELGEN_ACCEPT_SNAPSHOTS") == "1";
        var mismatches = new List<string>();
        foreach (var generated in run.Sources)
        {
            var baseline = Path.Combine(SnapshotFolder, Path.GetFileNameWithoutExtension(generated.HintName) + ".verified.cs");
            var actual = generated.SourceText.ToString();
            if (accept)
            {
                Directory.CreateDirectory(SnapshotFolder);
                File.WriteAllText(baseline, actual);
                continue;
            }

            if (!File.Exists(baseline))
            {
                mismatches.Add($"{generated.HintName}: no baseline {baseline}");
            }
            else if (File.ReadAllText(baseline).ReplaceLineEndings("\n") != actual)
            {
                mismatches.Add($"{generated.HintName}: differs from {baseline}");
            }
        }

        var expectedFiles = run.Sources.Select(s => Path.GetFileNameWithoutExtension(s.HintName) + ".verified.cs").ToHashSet();
        foreach (var stale in Directory.EnumerateFiles(SnapshotFolder, "*.verified.cs").Select(Path.GetFileName))
        {
            if (!expectedFiles.Contains(stale!)) mismatches.Add($"{stale}: baseline of a file the generator no longer writes");
        }

        Assert.True(mismatches.Count == 0,
            "Generated code changed. Review the diff, then run the tests with MODELGEN_ACCEPT_SNAPSHOTS=1 to accept:\n" + string.Join("\n", mismatches));
    }

    [Fact]
    public void GeneratedCode_DoesNotDependOnTheCulture()
    {
        var sample = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "LeNet5", "LeNet5.cs"));
        var original = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            var invariant = GeneratorHarness.RunWithGpu(sample).Sources.Select(s => s.SourceText.ToString()).ToList();
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            var german = GeneratorHarness.RunWithGpu(sample).Sources.Select(s => s.SourceText.ToString()).ToList();
            Assert.Equal(invariant, german);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = original;
        }
    }
}

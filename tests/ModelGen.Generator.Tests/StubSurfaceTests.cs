using System.Reflection;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Tests;

/// <summary>
/// A model whose layers have an error gets a stub surface: the members of the real one, throwing, so that the code
/// using the model shows no errors of its own while the attributes are being fixed — only the MG error.
/// </summary>
public class StubSurfaceTests
{
    private static readonly string Valid = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "LeNet5", "LeNet5.cs"));

    private static readonly string WithoutFlatten = Valid.Replace("[Flatten]\n", "");

    /// <summary>What a program does with its model: every kind of generated member.</summary>
    private const string Program = """
        using ModelGen;
        using LeNet5Sample;

        public static class Program
        {
            public static double Use(Dataset data, string path)
            {
                var model = new LeNet5(seed: 1);
                var input = new float[LeNet5.InputLength];
                var output = new float[LeNet5.OutputLength];
                model.Predict(input, output);
                var history = model.Fit(data, epochs: 2, validation: data);
                var result = model.Evaluate(data);
                model.Save(path);
                INetwork network = LeNet5.Load(path);
                System.Console.WriteLine(LeNet5.Summary + LeNet5.ParameterCount + LeNet5.InputHeight + LeNet5.ModelDescription.Name);
                return model.PredictClass(input) + model.Parameters.Length + result.Accuracy + history.Epochs + network.Parameters.Length + (model.History is null ? 0 : 1);
            }
        }
        """;

    /// <summary>A project without and one with ModelGen.Gpu (where the real model also implements the GPU kernel source).</summary>
    private static GeneratorRun Run(bool gpu, params string[] sources) =>
        gpu ? GeneratorHarness.RunWithGpu(sources) : GeneratorHarness.Run(sources);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ProgramUsingABrokenModel_ShowsOnlyTheMGError(bool gpu)
    {
        var run = Run(gpu, WithoutFlatten, Program);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MG0106", error.Id);
        Assert.Contains(run.Sources, s => s.HintName == "LeNet5Sample.LeNet5.Stub.g.cs");
        Assert.DoesNotContain(run.Sources, s => s.HintName.EndsWith(".Gpu.g.cs", StringComparison.Ordinal));

        // The same program builds against the real model.
        Assert.Empty(Run(gpu, Valid, Program).Errors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StubSurface_HasEveryPublicMemberOfTheRealOne_ExceptTheLayerViews(bool gpu)
    {
        var real = Surface(Run(gpu, Valid).Load().GetType("LeNet5Sample.LeNet5")!);
        var stub = Surface(Run(gpu, WithoutFlatten).Load().GetType("LeNet5Sample.LeNet5")!);
        Assert.Contains("Field Int32 ParameterCount", real);
        Assert.Equal(gpu, real.Contains("Interface ModelGen.Gpu.CompilerServices.IGpuKernelSource"));
        Assert.Equal(real, stub);
    }

    [Fact]
    public void StubMembers_ThrowSayingTheModelHasErrors()
    {
        var type = GeneratorHarness.Run(WithoutFlatten).Load().GetType("LeNet5Sample.LeNet5")!;
        var thrown = Assert.Throws<TargetInvocationException>(() => Activator.CreateInstance(type, [(int?)1]));
        var error = Assert.IsType<InvalidOperationException>(thrown.InnerException);
        Assert.Equal("LeNet5 was not generated: its layer attributes have ModelGen (MG) errors. Fix them and rebuild.", error.Message);
        Assert.Equal(784, type.GetField("InputLength")!.GetValue(null));
    }

    [Theory]
    [InlineData("[Sequential(4)]\n[Dense(2)]\npublic class Model { }\n")]               // not partial: a stub would not compile
    [InlineData("[Sequential(4)]\n[Dense(2)]\npublic static partial class Model { }\n")] // static
    [InlineData("[Sequential(4)]\n[Dense(2)]\npublic partial class History;\n")]        // a reserved name
    public void ModelWhoseClassIsWrong_GetsNoStub(string source)
    {
        var run = GeneratorHarness.Run("using ModelGen;\n" + source);
        Assert.All(run.Errors, e => Assert.StartsWith("MG", e.Id, StringComparison.Ordinal));
        Assert.Empty(run.Sources);
    }

    /// <summary>Public members as "Kind Type Name(parameters)", plus the interfaces; per-layer members left out.</summary>
    private static SortedSet<string> Surface(Type type)
    {
        var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => !GeneratedNames.IsLayerMemberName(m.Name) && !(m is MethodInfo { IsSpecialName: true }))
            .Select(m => $"{m.MemberType} {m}")
            .Concat(type.GetInterfaces().Select(i => "Interface " + i.FullName));
        return new SortedSet<string>(members, StringComparer.Ordinal);
    }
}

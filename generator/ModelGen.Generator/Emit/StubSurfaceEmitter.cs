using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Emit;

/// <summary>
/// The model surface of a model whose layers have an error: the public members the real surface has (constants, the
/// constructors, Predict/Fit/Evaluate/Save/Load, the passes the runtime drives), with placeholder values and bodies that
/// throw. Code that uses the model then reports no CS0117/CS1061 of its own while the attributes are being fixed, so
/// the MG error on the attribute is the only one. The per-layer views are left out: the layers are what is broken. Where
/// ModelGen.Gpu is referenced the stub implements its kernel source too, as the real model does.
/// StubSurfaceTests compare this surface with the real one member by member.
/// </summary>
internal static class StubSurfaceEmitter
{
    public static string Emit(ModelStub stub, bool gpu)
    {
        var w = new SourceWriter();
        GeneratedCode.Header(w, stub.Namespace, stub.ClassName);
        var broken = SourceWriter.String(
            $"{stub.ClassName} was not generated: its layer attributes have ModelGen (MG) errors. Fix them and rebuild.");
        const string Throw = "throw new global::System.InvalidOperationException(NotGenerated)";

        w.Raw("/// <summary>");
        w.Line($"/// <para>{SourceWriter.Xml(stub.ClassName)}: not generated, its layer attributes have ModelGen (MG) errors; every member throws until they are fixed.</para>");
        w.Raw("/// </summary>");
        w.Open($"partial class {stub.ClassName} : global::ModelGen.CompilerServices.IGeneratedNetwork{(gpu ? ", global::ModelGen.Gpu.CompilerServices.IGpuKernelSource" : string.Empty)}");
        w.Raw("private const string NotGenerated = " + broken + ";");
        w.Raw();

        // Constants: the input is known when [Sequential] is valid, the rest only once the layers are.
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const int ParameterCount = 0;");
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const int TrainableParameterCount = 0;");
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const int NonTrainableParameterCount = 0;");
        if (stub.Input is { IsImage: true } image)
        {
            w.Line($"/// <summary>Input image height in pixels.</summary>");
            w.Line($"public const int InputHeight = {image.Height};");
            w.Line($"/// <summary>Input image width in pixels.</summary>");
            w.Line($"public const int InputWidth = {image.Width};");
            w.Line($"/// <summary>Input channels (channels last).</summary>");
            w.Line($"public const int InputChannels = {image.Channels};");
        }

        w.Raw("/// <summary>Floats in one input sample (0 while [Sequential] has errors).</summary>");
        w.Line($"public const int InputLength = {stub.Input?.Length ?? 0};");
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const int OutputLength = 0;");
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const int MicroBatch = 0;");
        foreach (var cost in new[] { "ForwardMultiplyAdds", "TrainingMultiplyAddsPerSample", "ParameterBytes", "OptimizerStateBytes", "ActivationBytesPerSample", "WorkspaceBytesPerBatch" })
        {
            w.Raw("/// <summary>Not known while the model has errors.</summary>");
            w.Raw($"public const long {cost} = 0;");
        }

        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const string Architecture = \"\";");
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const string Fingerprint = \"\";");
        w.Raw("/// <summary>Not known while the model has errors.</summary>");
        w.Raw("public const string Summary = \"\";");
        w.Raw();

        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Raw($"public static global::ModelGen.NetworkDescription ModelDescription => {Throw};");
        w.Raw($"global::ModelGen.NetworkDescription global::ModelGen.INetwork.Description => {Throw};");
        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Raw($"public float[] Parameters => {Throw};");
        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Raw($"public global::ModelGen.Optimizer? Optimizer {{ get => {Throw}; set => {Throw}; }}");
        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Raw($"public global::ModelGen.TrainingHistory? History {{ get => {Throw}; set => {Throw}; }}");
        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Raw($"public global::System.Collections.Generic.IReadOnlyList<string>? ClassNames {{ get => {Throw}; set => {Throw}; }}");
        w.Raw();

        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Line($"public {stub.ClassName}() : this(seed: null) {{ }}");
        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Line($"public {stub.ClassName}(int? seed) => {Throw};");
        w.Raw("/// <summary>Throws: the model has errors.</summary>");
        w.Raw($"public void Initialize(int seed) => {Throw};");
        w.Raw();

        const string Span = "global::System.Span<float>";
        const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
        string[] methods =
        [
            $"public float[] Predict({ReadOnlySpan} input)",
            "public float[] Predict(global::System.ReadOnlySpan<byte> image)",
            $"public void Predict({ReadOnlySpan} input, {Span} output)",
            $"public float[] PredictBatch({ReadOnlySpan} inputs)",
            $"public int PredictClass({ReadOnlySpan} input)",
            GeneratedCode.FitDeclaration,
            "public global::ModelGen.EvaluationResult Evaluate(global::ModelGen.Dataset data)",
            $"public float ComputeGradients(global::ModelGen.Dataset batch, {Span} gradient)",
            "public void ExportOnnx(string path)",
            "public void Save(string path)",
            $"public static {stub.ClassName} Load(string path)",
            $"public static {stub.ClassName} Load(global::System.IO.Stream stream, string? name = null)",
        ];
        foreach (var method in methods)
        {
            w.Raw("/// <summary>Throws: the model has errors.</summary>");
            w.Raw(method + " => " + Throw + ";");
        }

        const string Services = "global::ModelGen.CompilerServices";
        w.Raw($"long {Services}.IGeneratedNetwork.WorkspaceLength(int capacity) => {Throw};");
        w.Raw($"void {Services}.IGeneratedNetwork.Forward(in {Services}.BatchPass pass, {ReadOnlySpan} parameters, {Span} workspace) => {Throw};");
        w.Raw($"void {Services}.IGeneratedNetwork.Backward(in {Services}.BatchPass pass, {ReadOnlySpan} parameters, {Span} workspace, {Span} gradient) => {Throw};");
        w.Raw($"void {Services}.IGeneratedNetwork.UpdateStatistics(in {Services}.BatchPass pass, {Span} parameters, {Span} workspace) => {Throw};");
        if (gpu)
        {
            w.Raw("global::ModelGen.Gpu.CompilerServices.GpuKernelSet global::ModelGen.Gpu.CompilerServices.IGpuKernelSource.CreateGpuKernels(" +
                $"global::ILGPU.Runtime.Accelerator accelerator) => {Throw};");
        }

        w.Close();
        GeneratedCode.Footer(w, stub.Namespace);
        return w.ToString();
    }
}

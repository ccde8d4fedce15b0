using System.ComponentModel;

namespace ModelGen.CompilerServices;

/// <summary>
/// Everything the members of a generated model class call (for generated code only), in the manner of System.Text.Json's
/// <c>JsonMetadataServices</c>: the generated <c>Predict</c>, <c>Fit</c>, <c>Evaluate</c>, <c>Save</c>, <c>Load</c> and
/// initialisation are one line each that lands here. Together with the kernels and shapes of this namespace it is the
/// whole contract between the generator and the runtime; its version is <see cref="ContractVersion"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedModel
{
    /// <summary>
    /// The version of this contract. Generated code passes the version it was written for to <see cref="Describe"/>; the
    /// runtime refuses to run a model of another version with a clear error (the generator and the runtime of one
    /// ModelGen package always agree; a mismatch means two package versions are mixed).
    /// </summary>
    public const int ContractVersion = 2;

    /// <summary>The description of a generated network (called once per model type).</summary>
    public static NetworkDescription Describe(
        int contractVersion,
        string name,
        int[] inputShape,
        int outputLength,
        int parameterCount,
        int trainableParameterCount,
        int microBatch,
        bool softmaxOutput,
        string architecture,
        string fingerprint,
        string summary,
        LayerDescription[] layers,
        ParameterView[] parameterViews) =>
        new(contractVersion, name, inputShape, outputLength, parameterCount, trainableParameterCount, microBatch, softmaxOutput, architecture, fingerprint,
            summary, layers, parameterViews);

    /// <summary>A random seed for a model created without one.</summary>
    public static int NewSeed() => SeededRandom.NewSeed();

    /// <summary>The generator that initialises a model from <paramref name="seed"/>.</summary>
    public static SeededRandom CreateRandom(int seed) => new(seed);

    /// <summary>Keras's Glorot-uniform initialisation of one kernel.</summary>
    public static void GlorotUniform(Span<float> kernel, int fanIn, int fanOut, SeededRandom random) =>
        Initializers.GlorotUniform(kernel, fanIn, fanOut, random);

    /// <summary>Behind the generated <c>Predict(ReadOnlySpan&lt;float&gt;)</c>.</summary>
    public static float[] Predict(IGeneratedNetwork network, ReadOnlySpan<float> input) => Inference.Predict(network, input);

    /// <summary>Behind the generated <c>Predict(ReadOnlySpan&lt;byte&gt;)</c>.</summary>
    public static float[] Predict(IGeneratedNetwork network, ReadOnlySpan<byte> image) => Inference.Predict(network, image);

    /// <summary>Behind the generated <c>Predict(input, output)</c>.</summary>
    public static void Predict(IGeneratedNetwork network, ReadOnlySpan<float> input, Span<float> output) => Inference.Predict(network, input, output);

    /// <summary>Behind the generated <c>PredictBatch</c>.</summary>
    public static float[] PredictBatch(IGeneratedNetwork network, ReadOnlySpan<float> inputs) => Inference.PredictBatch(network, inputs);

    /// <summary>Behind the generated <c>PredictClass</c>.</summary>
    public static int PredictClass(IGeneratedNetwork network, ReadOnlySpan<float> input) => Inference.PredictClass(network, input);

    /// <summary>Behind the generated <c>Fit</c>: its parameters are <see cref="FitOptions"/>' properties, one for one.</summary>
    public static TrainingHistory Fit(
        IGeneratedNetwork network, Dataset train, int epochs, int batchSize, Dataset? validation, Optimizer? optimizer, int? seed,
        ProgressReporter? progress, IReadOnlyList<Callback>? callbacks, ImageAugmentation? augmentation, int? threads,
        CancellationToken cancellationToken) =>
        Trainer.Fit(network, train, new FitOptions
        {
            Epochs = epochs,
            BatchSize = batchSize,
            Validation = validation,
            Optimizer = optimizer,
            Seed = seed,
            Progress = progress,
            Callbacks = callbacks,
            Augmentation = augmentation,
            Threads = threads,
            CancellationToken = cancellationToken,
        });

    /// <summary>Behind the generated <c>Evaluate</c>.</summary>
    public static EvaluationResult Evaluate(IGeneratedNetwork network, Dataset data) => Trainer.Evaluate(network, data);

    /// <summary>Behind the generated <c>ComputeGradients</c>.</summary>
    public static float ComputeGradients(IGeneratedNetwork network, Dataset batch, Span<float> gradient) =>
        Trainer.ComputeGradients(network, batch, gradient);

    /// <summary>Behind the generated <c>Save</c>.</summary>
    public static void Save(IGeneratedNetwork network, string path) => ModelStore.Save(network, path);

    /// <summary>Behind the generated <c>ExportOnnx</c>.</summary>
    public static void ExportOnnx(IGeneratedNetwork network, string path) => OnnxExport.Save(network, path);

    /// <summary>Behind the generated <c>Load</c>: fills a freshly constructed <paramref name="network"/> from <paramref name="path"/>.</summary>
    public static void LoadInto(IGeneratedNetwork network, string path) => ModelStore.LoadInto(network, path);

    /// <summary>Behind the generated <c>Load(Stream)</c>: fills a freshly constructed <paramref name="network"/> from <paramref name="stream"/>.</summary>
    public static void LoadInto(IGeneratedNetwork network, Stream stream, string? name) => ModelStore.LoadInto(network, stream, name);

    /// <summary>The network's passes, after checking that it was generated for this runtime's contract.</summary>
    internal static IGeneratedNetwork Passes(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network is not IGeneratedNetwork generated)
        {
            throw new ArgumentException(
                $"{network.GetType().Name} is not a network generated by ModelGen; declare it with [Sequential] and layer attributes.", nameof(network));
        }

        var version = network.Description.ContractVersion;
        if (version != ContractVersion)
        {
            throw new ModelGenException(
                $"{network.Description.Name} was generated for ModelGen runtime contract {version}, but this ModelGen runtime implements contract {ContractVersion}: " +
                "the project mixes two versions of ModelGen; reference one version of the ModelGen package (generator and runtime come together in it) and rebuild.");
        }

        return generated;
    }
}

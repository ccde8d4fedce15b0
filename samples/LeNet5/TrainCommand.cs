using System.Globalization;
using ModelGen;

namespace LeNet5Sample;

internal sealed class TrainArguments
{
    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public bool BatchSizeGiven { get; init; }
    public int Seed { get; init; }
    public bool SeedGiven { get; init; }
    public int? Limit { get; init; }
    public bool Raw { get; init; }
    public required string OutDirectory { get; init; }
    public bool Resume { get; init; }
    public int? Threads { get; init; }
    public DeviceChoice Device { get; init; }
    public string? MnistDirectory { get; init; }
}

/// <summary>
/// Program 1 of the tutorial: load MNIST, build LeNet-5, fit with validation on test images 0-4999, evaluate on
/// 5000-9999, save the model with its history and a plot of it.
/// </summary>
internal sealed class TrainCommand(SampleConsole console)
{
    public int Run(TrainArguments a)
    {
        var output = console.Out;
        // With --resume, --out may name the model file itself instead of the folder train --out wrote.
        var outDirectory = a.Resume && File.Exists(a.OutDirectory) ? Path.GetDirectoryName(Path.GetFullPath(a.OutDirectory))! : a.OutDirectory;
        var modelPath = outDirectory == a.OutDirectory ? Path.Combine(a.OutDirectory, Commands.ModelFileName) : a.OutDirectory;
        var historyPath = Path.Combine(outDirectory, "history.json");
        var plotPath = Path.Combine(outDirectory, "history.png");

        // The model (and its settings) first: a wrong --resume fails before MNIST is read.
        LeNet5 model;
        TrainingSettings settings;
        if (a.Resume)
        {
            if (!File.Exists(modelPath))
            {
                throw new SampleException($"--resume: {modelPath} does not exist; train without --resume first, or pass the --out folder that holds model.mgm.");
            }
            model = LeNet5.Load(modelPath);
            var saved = TrainingSettings.LoadFor(modelPath);
            if (saved is { RawPixels: false } && a.Raw)
            {
                throw new SampleException($"--resume --raw: {modelPath} was trained on pixels x/255; switching to raw pixels mid-training would change its inputs. Train a new model with --raw in another --out folder.");
            }
            // A resumed run is the same run continued: same inputs, shuffles and batches unless told otherwise.
            settings = new TrainingSettings(
                RawPixels: a.Raw || (saved?.RawPixels ?? false),
                Seed: a.SeedGiven || saved is null ? a.Seed : saved.Seed,
                BatchSize: a.BatchSizeGiven || saved is null ? a.BatchSize : saved.BatchSize,
                Limit: a.Limit ?? saved?.Limit);
        }
        else
        {
            model = new LeNet5(a.Seed);
            settings = new TrainingSettings(a.Raw, a.Seed, a.BatchSize, a.Limit);
        }

        var threads = a.Threads ?? Math.Min(Environment.ProcessorCount, Trainer.MaxThreads);
        var backend = TrainingDevices.Select(a.Device, threads);
        try
        {
            Directory.CreateDirectory(outDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"cannot create the output folder {outDirectory}: {e.Message} Pass another --out folder.", e);
        }

        var mnist = SampleData.LoadMnist(console, a.MnistDirectory);
        var trainImages = settings.Limit is { } n && n < mnist.Train.Count ? mnist.Train.Slice(0, n) : mnist.Train;
        var train = trainImages.ToDataset(settings.InputScale);
        var validation = mnist.Validation.ToDataset(settings.InputScale);
        var final = mnist.FinalEvaluation.ToDataset(settings.InputScale);

        output.WriteLine(LeNet5.Summary);
        var before = model.History?.Epochs ?? 0;
        output.WriteLine($"device: {backend.Description}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {train.Count:N0} training images ({settings.InputDescription}), validation on test images 0-{validation.Count - 1}; " +
            $"batch size {settings.BatchSize}, seed {settings.Seed}, {threads} threads"));
        if (a.Resume)
        {
            output.WriteLine($"resuming {modelPath} after {before} epoch(s): epochs {before + 1}-{before + a.Epochs}");
        }

        var progress = console.OutIsTerminal ? ProgressReporter.ForConsole() : new ProgressReporter(output, live: false);
        try
        {
            using (Program.TrainingScope())
            {
                backend.Fit(model, train, new FitOptions
                {
                    Epochs = a.Epochs,
                    BatchSize = settings.BatchSize,
                    Validation = validation,
                    Seed = settings.Seed,
                    Progress = progress,
                    Threads = threads,
                    CancellationToken = console.CancellationToken,
                });
            }
        }
        catch (OperationCanceledException) when (console.CancellationToken.IsCancellationRequested)
        {
            if (progress.Live) output.WriteLine();
            var kept = File.Exists(modelPath) ? $"the last saved model {modelPath} is unchanged" : "no model was saved";
            console.Error.WriteLine($"interrupted: training stopped between two steps; {kept}.");
            return Program.ExitInterrupted;
        }

        var evaluation = Trainer.Evaluate(model, final, threads);
        model.History!.Evaluation = evaluation;
        output.WriteLine(
            $"Final evaluation (test images {SampleData.FinalEvaluationOffset}-{SampleData.FinalEvaluationOffset + final.Count - 1}): " +
            $"loss {ProgressReporter.FormatValue(evaluation.Loss)} - accuracy {ProgressReporter.FormatValue(evaluation.Accuracy)}");

        var history = model.History!;
        SaveAll(
            (modelPath, "model", () => model.Save(modelPath)),
            (TrainingSettings.PathFor(modelPath), null, () => settings.SaveFor(modelPath)),
            (historyPath, "history", () => history.Save(historyPath)),
            (plotPath, "history plot", () => HistoryPlot.SavePng(history, plotPath)));
        return Program.ExitOk;
    }

    /// <summary>
    /// Writes each file in order (each atomically: a failure leaves no partial or temporary file). When one fails, e.g.
    /// on a full disk, the error says which files were saved and which were not, so nothing is lost unknowingly.
    /// </summary>
    private void SaveAll(params (string Path, string? Label, Action Save)[] files)
    {
        for (var i = 0; i < files.Length; i++)
        {
            var (path, label, save) = files[i];
            try
            {
                save();
            }
            catch (Exception e) when (e is ModelGenException or IOException or UnauthorizedAccessException)
            {
                var cause = e.InnerException is IOException or UnauthorizedAccessException ? e.InnerException : e;
                var saved = i == 0 ? "nothing" : string.Join(", ", files[..i].Select(f => f.Path));
                var notSaved = string.Join(", ", files[i..].Select(f => f.Path));
                throw new SampleException(
                    $"cannot save {path} ({cause.Message.TrimEnd('.')}); saved: {saved}; not saved: {notSaved}. " +
                    "Free disk space (or fix the folder) and train again; --resume continues from a saved model.mgm.", e);
            }

            if (label is not null) console.Out.WriteLine($"saved {label} to {path}");
        }
    }
}

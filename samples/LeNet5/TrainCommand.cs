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
    public string? DataDirectory { get; init; }
    public bool Augment { get; init; }
    public int? EarlyStoppingPatience { get; init; }
    public bool Checkpoint { get; init; }
    public string? LearningRateSchedule { get; init; }
    public bool CsvLog { get; init; }
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
            // A resumed run is the same run continued: same inputs, shuffles, batches, augmentation and learning-rate
            // schedule unless told otherwise.
            var trainedBefore = model.History?.Epochs ?? 0;
            var dataDirectory = a.DataDirectory ?? saved?.DataDirectory;
            settings = new TrainingSettings(
                RawPixels: a.Raw || (saved?.RawPixels ?? false),
                Seed: a.SeedGiven || saved is null ? a.Seed : saved.Seed,
                BatchSize: a.BatchSizeGiven || saved is null ? a.BatchSize : saved.BatchSize,
                Limit: a.Limit ?? saved?.Limit,
                DataDirectory: dataDirectory,
                ImageFolder: dataDirectory is not null && SampleData.KindOf(dataDirectory) == DataKind.Images,
                Augment: a.Augment || (saved?.Augment ?? false),
                LearningRateSchedule: a.LearningRateSchedule ?? saved?.LearningRateSchedule,
                ScheduleEpochs: a.LearningRateSchedule is not null ? trainedBefore + a.Epochs : saved?.ScheduleEpochs);
        }
        else
        {
            model = new LeNet5(a.Seed);
            settings = new TrainingSettings(
                a.Raw, a.Seed, a.BatchSize, a.Limit, a.DataDirectory,
                ImageFolder: a.DataDirectory is not null && SampleData.KindOf(a.DataDirectory) == DataKind.Images,
                Augment: a.Augment, LearningRateSchedule: a.LearningRateSchedule, ScheduleEpochs: a.LearningRateSchedule is null ? null : a.Epochs);
        }

        var threads = a.Threads ?? Math.Min(Environment.ProcessorCount, Trainer.MaxThreads);
        if (settings.Augment && a.Device == DeviceChoice.Gpu)
        {
            throw new SampleException("--augment runs on the CPU only so far; use --device cpu (or auto).", Program.ExitUsage);
        }

        // Augmentation is CPU-only, so with it --device auto means the CPU.
        var backend = TrainingDevices.Select(settings.Augment && a.Device == DeviceChoice.Auto ? DeviceChoice.Cpu : a.Device, threads);
        try
        {
            Directory.CreateDirectory(outDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"cannot create the output folder {outDirectory}: {e.Message} Pass another --out folder.", e);
        }

        TrainingData data;
        if (settings.DataDirectory is { } directory)
        {
            data = SampleData.LoadTrainingData(directory, settings);
        }
        else
        {
            var mnist = SampleData.LoadMnist(console, a.MnistDirectory);
            var trainImages = settings.Limit is { } n && n < mnist.Train.Count ? mnist.Train.Slice(0, n) : mnist.Train;
            data = new TrainingData(
                trainImages.ToDataset(settings.InputScale), mnist.Validation.ToDataset(settings.InputScale), mnist.FinalEvaluation.ToDataset(settings.InputScale),
                $"{trainImages.Count:N0} training images, validation on test images 0-{mnist.Validation.Count - 1}",
                $"test images {SampleData.FinalEvaluationOffset}-{SampleData.FinalEvaluationOffset + mnist.FinalEvaluation.Count - 1}");
        }

        var (train, validation, final) = (data.Train, data.Validation, data.Final);
        output.WriteLine(LeNet5.Summary);
        var before = model.History?.Epochs ?? 0;
        output.WriteLine($"device: {backend.Description}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {data.Description} ({settings.InputDescription}{(settings.Augment ? ", augmented" : "")}); " +
            $"batch size {settings.BatchSize}, seed {settings.Seed}, {threads} threads"));
        if (a.Resume)
        {
            output.WriteLine($"resuming {modelPath} after {before} epoch(s): epochs {before + 1}-{before + a.Epochs}");
        }

        var bestPath = Path.Combine(outDirectory, Commands.BestModelFileName);
        var csvPath = Path.Combine(outDirectory, "history.csv");
        var callbacks = Callbacks(a, settings, before, bestPath, csvPath, output);
        if (a.Checkpoint)
        {
            // Saved now, as the checkpoint is written during training: predict and --resume read best.mgm as they read model.mgm.
            settings.SaveFor(bestPath);
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
                    Callbacks = callbacks,
                    Augmentation = settings.Augment ? ImageAugmentation.Default() : null,
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

        if (model.History!.Stops.Count > 0 && model.History.Stops[^1].Epoch > before)
        {
            var stop = model.History.Stops[^1];
            var restored = model.History.WeightsFromEpoch is { } epoch ? $"; the model keeps the weights of epoch {epoch}, its best" : "";
            output.WriteLine($"stopped after epoch {stop.Epoch} of {before + a.Epochs}: {stop.Reason}{restored}");
        }

        var evaluation = Trainer.Evaluate(model, final, threads);
        model.History!.Evaluation = evaluation;
        output.WriteLine(
            $"Final evaluation ({data.FinalDescription}): " +
            $"loss {ProgressReporter.FormatValue(evaluation.Loss)} - accuracy {ProgressReporter.FormatValue(evaluation.Accuracy)}");

        var history = model.History!;
        SaveAll(
            (modelPath, "model", () => model.Save(modelPath)),
            (TrainingSettings.PathFor(modelPath), null, () => settings.SaveFor(modelPath)),
            (historyPath, "history", () => history.Save(historyPath)),
            (plotPath, "history plot", () => HistoryPlot.SavePng(history, plotPath)));
        return Program.ExitOk;
    }

    /// <summary>The callbacks the options ask for, in the order they run.</summary>
    private static List<Callback> Callbacks(TrainArguments a, TrainingSettings settings, int before, string bestPath, string csvPath, TextWriter output)
    {
        var callbacks = new List<Callback>();
        if (settings.LearningRateSchedule is { } kind)
        {
            // Over the epochs planned when the schedule was chosen; a resumed run goes on along the same curve.
            var epochs = settings.ScheduleEpochs ?? before + a.Epochs;
            var initial = new Adam().LearningRate;
            callbacks.Add(new LearningRateScheduler(kind == "cosine"
                ? LearningRateSchedules.Cosine(initial, epochs)
                : LearningRateSchedules.Step(initial, Math.Max(1, epochs / 3), factor: 0.1)));
            if (before + a.Epochs > epochs)
            {
                output.WriteLine($"note: the {kind} learning-rate schedule spans epochs 1-{epochs}; later epochs keep its last rate (pass --lr-schedule {kind} again to plan a new one)");
            }
        }

        if (a.EarlyStoppingPatience is { } patience) callbacks.Add(new EarlyStopping(patience: patience, restoreBestWeights: true, verbose: true));
        if (a.Checkpoint) callbacks.Add(new ModelCheckpoint(bestPath, saveBestOnly: true, verbose: true));
        if (a.CsvLog) callbacks.Add(new CsvLogger(csvPath, append: a.Resume));
        return callbacks;
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

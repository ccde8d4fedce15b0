using System.CommandLine;
using System.CommandLine.Parsing;
using ModelGen;

namespace LeNet5Sample;

/// <summary>The command line: options, their checks, and which handler runs.</summary>
internal static class Commands
{
    public const string DefaultOutDirectory = "lenet5";
    public const string ModelFileName = "model.mgm";
    public const string BestModelFileName = "best.mgm";
    public static readonly string DefaultModelPath = Path.Combine(DefaultOutDirectory, ModelFileName);

    public static RootCommand Build(SampleConsole console)
    {
        var mnistDir = new Option<string?>("--mnist-dir")
        {
            Description = "Folder holding the four MNIST IDX files (raw or .gz), tried after the cache. " +
                          $"The cache is ${MnistOptions.DataDirectoryVariable}/mnist, else ~/.cache/modelgen/mnist.",
            HelpName = "DIR",
            Recursive = true,
        };

        var root = new RootCommand(
            "LeNet-5 on MNIST, as the Keras tutorial's two programs: train a model, then predict digits with it.")
        {
            mnistDir,
            BuildTrain(console, mnistDir),
            BuildPredict(console, mnistDir),
            BuildEvaluate(console, mnistDir),
            BuildExport(console),
        };
        return root;
    }

    private static Command BuildTrain(SampleConsole console, Option<string?> mnistDir)
    {
        var epochs = Positive(new Option<int>("--epochs", "-e") { Description = "Epochs to train (added to the saved ones with --resume).", DefaultValueFactory = _ => 5 });
        var batchSize = Positive(new Option<int>("--batch-size", "-b") { Description = "Images per gradient step.", DefaultValueFactory = _ => 32 });
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights and of the per-epoch shuffles.", DefaultValueFactory = _ => 42 };
        var limit = Positive(new Option<int?>("--limit") { Description = "Train on the first N training images only.", HelpName = "N" });
        var raw = new Option<bool>("--raw") { Description = "Feed raw 0..255 pixels as the tutorial did (default: x/255)." };
        var output = new Option<string>("--out", "-o") { Description = "Folder for model.mgm, history.json and history.png (with --resume also the model file itself).", DefaultValueFactory = _ => DefaultOutDirectory, HelpName = "DIR" };
        var resume = new Option<bool>("--resume") { Description = "Load DIR/model.mgm (or the model file --out names) and continue training it (weights, optimizer state and history)." };
        var threads = ThreadsOption("CPU threads, 1 to 256 (default: all cores); the result does not depend on it.");
        var device = new Option<string>("--device") { Description = "Where to train: auto, cpu or gpu.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "gpu");
        var data = new Option<string?>("--data")
        {
            Description = "Train on another data set: a folder of the four IDX files (e.g. Fashion-MNIST; split as MNIST) or an image folder " +
                          "(one subfolder of PNG/JPEG images per class, resized to 28x28 gray; 20% kept for validation).",
            HelpName = "DIR",
        };
        var augment = new Option<bool>("--augment") { Description = "Augment training images: random rotation ±18°, shift ±10%, zoom ±10% (Keras's preprocessing layers; CPU)." };
        var earlyStopping = Positive(new Option<int?>("--early-stopping") { Description = "Stop when val_loss has not improved for N epochs, and keep the best epoch's weights.", HelpName = "PATIENCE" });
        var checkpoint = new Option<bool>("--checkpoint") { Description = $"Save the best model so far (by val_loss) to DIR/{BestModelFileName} after each epoch that improves it." };
        var schedule = new Option<string?>("--lr-schedule") { Description = "Learning-rate schedule over the epochs: cosine (to 0) or step (x0.1 every third); --resume continues it.", HelpName = "cosine|step" };
        schedule.AcceptOnlyFromAmong("cosine", "step");
        var csvLog = new Option<bool>("--csv-log") { Description = "Log each epoch's metrics to DIR/history.csv (Keras's CSVLogger format; appended with --resume)." };

        var command = new Command("train", "Train LeNet-5 on MNIST (or --data DIR), validate on test images 0-4999, evaluate on 5000-9999, and save it.")
        {
            epochs, batchSize, seed, limit, raw, output, resume, threads, device, data, augment, earlyStopping, checkpoint, schedule, csvLog,
        };
        command.SetAction(parse => new TrainCommand(console).Run(new TrainArguments
        {
            Epochs = parse.GetValue(epochs),
            BatchSize = parse.GetValue(batchSize),
            BatchSizeGiven = IsExplicit(parse, batchSize),
            Seed = parse.GetValue(seed),
            SeedGiven = IsExplicit(parse, seed),
            Limit = parse.GetValue(limit),
            Raw = parse.GetValue(raw),
            OutDirectory = parse.GetValue(output)!,
            Resume = parse.GetValue(resume),
            Threads = parse.GetValue(threads),
            Device = TrainingDevices.Parse(parse.GetValue(device)!),
            MnistDirectory = parse.GetValue(mnistDir),
            DataDirectory = parse.GetValue(data),
            Augment = parse.GetValue(augment),
            EarlyStoppingPatience = parse.GetValue(earlyStopping),
            Checkpoint = parse.GetValue(checkpoint),
            LearningRateSchedule = parse.GetValue(schedule),
            CsvLog = parse.GetValue(csvLog),
        }));
        return command;
    }

    private static Command BuildPredict(SampleConsole console, Option<string?> mnistDir)
    {
        var model = ModelOption();
        var seed = new Option<int?>("--seed") { Description = "Seed of the random pick (default: a different image each run)." };
        var index = new Option<int?>("--index", "-i") { Description = "Image N of the final-evaluation set (0..4999, test image 5000+N) instead of a random one.", HelpName = "N" };
        var png = new Option<string?>("--png") { Description = "Also write a PNG: the digit beside a bar chart of the ten probabilities.", HelpName = "FILE" };
        var image = new Option<string?>("--image") { Description = "Classify your own picture (PNG or JPEG, any size, dark-on-light or light-on-dark).", HelpName = "FILE" };
        var noColor = new Option<bool>("--no-color") { Description = "Draw the digit with plain characters, without colour codes." };
        var timing = new Option<bool>("--timing") { Description = "Also print how long the prediction took (the first, and the median of 1,000 more)." };
        index.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, out var n) && n < 0)
            {
                r.AddError("--index must be 0 or more (an image of the final-evaluation set, 0..4999).");
            }
        });

        var command = new Command("predict", "Predict the digit of one image: a random final-evaluation image, a chosen one, or your own picture.")
        {
            model, seed, index, png, image, noColor, timing,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(image) is not null && r.GetResult(index) is not null) r.AddError("--image and --index exclude each other: pass one of them.");
            if (r.GetResult(image) is not null && r.GetResult(seed) is not null) r.AddError("--image and --seed exclude each other: --seed picks a random MNIST image.");
        });
        command.SetAction(parse => new PredictCommand(console).Run(new PredictArguments
        {
            ModelPath = ModelFileIn(parse.GetValue(model)!),
            Seed = parse.GetValue(seed),
            Index = parse.GetValue(index),
            PngPath = parse.GetValue(png),
            ImagePath = parse.GetValue(image),
            NoColor = parse.GetValue(noColor),
            Timing = parse.GetValue(timing),
            MnistDirectory = parse.GetValue(mnistDir),
        }));
        return command;
    }

    private static Command BuildEvaluate(SampleConsole console, Option<string?> mnistDir)
    {
        var model = ModelOption();
        var data = new Option<string?>("--data")
        {
            Description = "Evaluate on another folder of IDX files of the same shape (e.g. Fashion-MNIST) instead of MNIST.",
            HelpName = "DIR",
        };
        var all = new Option<bool>("--all") { Description = "Use all test images, not only the final-evaluation half (5000-9999)." };
        var threads = ThreadsOption("CPU threads, 1 to 256 (default: all cores).");
        var command = new Command("evaluate", "Loss, accuracy and the confusion matrix on the final-evaluation images (test images 5000-9999).")
        {
            model, data, all, threads,
        };
        command.SetAction(parse => new EvaluateCommand(console).Run(new EvaluateArguments
        {
            ModelPath = ModelFileIn(parse.GetValue(model)!),
            DataDirectory = parse.GetValue(data),
            All = parse.GetValue(all),
            Threads = parse.GetValue(threads),
            MnistDirectory = parse.GetValue(mnistDir),
        }));
        return command;
    }

    private static Command BuildExport(SampleConsole console)
    {
        var model = ModelOption();
        var onnx = new Option<string?>("--onnx")
        {
            Description = "The ONNX file to write (default: model.onnx beside the model file).",
            HelpName = "FILE",
        };
        var command = new Command("export", "Write the model as an ONNX model (input [N, 28, 28, 1] scaled as in training, output the ten probabilities).")
        {
            model, onnx,
        };
        command.SetAction(parse => new ExportCommand(console).Run(new ExportArguments
        {
            ModelPath = ModelFileIn(parse.GetValue(model)!),
            OnnxPath = parse.GetValue(onnx),
        }));
        return command;
    }

    private static Option<string> ModelOption() =>
        new("--model", "-m") { Description = "The model file written by train, or the folder train --out wrote.", DefaultValueFactory = _ => DefaultModelPath, HelpName = "PATH" };

    /// <summary>The model file a --model path names: model.mgm inside the folder train --out wrote, or the path itself.</summary>
    internal static string ModelFileIn(string path) => Directory.Exists(path) ? Path.Combine(path, ModelFileName) : path;

    /// <summary>
    /// --threads: each thread gets its own workspace, and thousands of threads abort the process, so it is bounded
    /// like <see cref="Trainer.MaxThreads"/>.
    /// </summary>
    private static Option<int?> ThreadsOption(string description)
    {
        var option = new Option<int?>("--threads") { Description = description, HelpName = "N" };
        option.Validators.Add(r =>
        {
            if (r.Implicit || r.Errors.Any() || r.Tokens.Count != 1 || !int.TryParse(r.Tokens[0].Value, out var n)) return;
            if (n < 1 || n > Trainer.MaxThreads) r.AddError($"--threads must be 1 to {Trainer.MaxThreads}, not {n}.");
        });
        return option;
    }

    private static Option<T> Positive<T>(Option<T> option)
    {
        option.Validators.Add(r =>
        {
            // A value that is not a number is already a parse error; reading it would throw.
            if (r.Implicit || r.Errors.Any() || r.Tokens.Count != 1 || !int.TryParse(r.Tokens[0].Value, out var n)) return;
            if (n < 1) r.AddError($"{option.Name} must be at least 1, not {n}.");
        });
        return option;
    }

    private static bool IsExplicit(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };
}

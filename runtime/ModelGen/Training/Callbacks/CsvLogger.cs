using System.Text;

namespace ModelGen;

/// <summary>
/// Writes one CSV row per epoch (Keras's <c>keras.callbacks.CSVLogger</c>): the columns are <c>epoch</c> (Keras's 0-based
/// index) then the metrics in sorted order — <c>accuracy</c>, <c>learning_rate</c>, <c>loss</c>, <c>val_accuracy</c>,
/// <c>val_loss</c> — with values as Python prints them, and Python's CSV line ends (<c>\r\n</c>), so a Keras user's
/// tools read it unchanged. Without validation data the validation columns still exist, holding <c>NA</c>, as in Keras.
/// </summary>
/// <remarks>
/// The file is rewritten atomically after every epoch (through a temporary file and a rename), so it never holds half a
/// row, even when the process is killed. With <c>append</c> (useful with a resumed model) rows follow the file's
/// existing ones and no second header is written; a file whose header differs is refused before training starts.
/// ModelGen always logs <c>learning_rate</c>; Keras logs it only when a schedule or ReduceLROnPlateau runs.
/// </remarks>
public sealed class CsvLogger : Callback
{
    private const string NotAvailable = "NA";
    private const long MaxExistingBytes = 64L << 20;
    private static readonly string[] Columns = ["epoch", .. EpochSummary.MetricNames];

    private readonly StringBuilder _text = new();

    /// <summary>Creates the logger.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="separator">The column separator (Keras's <c>separator</c>).</param>
    /// <param name="append">Whether to append to an existing file instead of replacing it.</param>
    /// <exception cref="ArgumentException">An empty path, or a separator that is a quote, a digit or a line break.</exception>
    public CsvLogger(string path, char separator = ',', bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (separator is '"' or '\r' or '\n' or '.' or '-' or '_' || char.IsLetterOrDigit(separator))
        {
            throw new ArgumentException($"'{separator}' cannot separate CSV columns whose values are numbers and names; use ',', ';' or a tab.", nameof(separator));
        }

        Path = path;
        Separator = separator;
        Append = append;
    }

    /// <summary>The CSV file.</summary>
    public string Path { get; }

    /// <summary>The column separator.</summary>
    public char Separator { get; }

    /// <summary>Whether rows are appended to an existing file.</summary>
    public bool Append { get; }

    /// <summary>The header line this logger writes (without its line end).</summary>
    public string Header => string.Join(Separator, Columns);

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _text.Clear();
        var existing = Append && File.Exists(Path) ? ReadExisting() : "";
        if (existing.Length == 0)
        {
            _text.Append(Header).Append("\r\n");
            return;
        }

        var firstLine = existing.AsSpan(0, existing.IndexOfAny(['\r', '\n']) is var end and >= 0 ? end : existing.Length);
        if (!firstLine.SequenceEqual(Header))
        {
            throw new ArgumentException(
                $"CsvLogger cannot append to '{Path}': its header is '{firstLine}' but this fit logs '{Header}'; log to another file or pass append: false.");
        }

        _text.Append(existing);
        if (existing[^1] != '\n') _text.Append("\r\n");
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(EpochSummary summary)
    {
        _text.Append(summary.Epoch - 1);
        foreach (var name in EpochSummary.MetricNames)
        {
            _text.Append(Separator).Append(summary.Metric(name) is { } value ? PythonText.Repr(value) : NotAvailable);
        }

        _text.Append("\r\n");
        try
        {
            AtomicFile.WriteAllText(Path, _text.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelGenException($"CsvLogger cannot write '{Path}': {e.Message} Check that the folder exists and is writable.", e);
        }
    }

    private string ReadExisting()
    {
        try
        {
            return RegularFile.ReadAllText(Path, MaxExistingBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ModelGenException($"CsvLogger cannot append to '{Path}': {e.Message}", e);
        }
    }
}

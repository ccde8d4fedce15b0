using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace ModelGen;

/// <summary>
/// Prints training progress in Keras 2's format:
/// <c>Epoch 3/10</c>, then on a terminal a line redrawn with <c>'\r'</c>
/// (<c>  12/1875 [&gt;.............................] - ETA: 1:05 - loss: 0.2345 - accuracy: 0.9123</c>), and at the end of
/// the epoch <c>1875/1875 [==============================] - 54s 29ms/step - loss: 0.1732 - accuracy: 0.9461 - val_loss: 0.1029 - val_accuracy: 0.9656</c>.
/// </summary>
/// <remarks>
/// When not <see cref="Live"/> (output redirected to a file or a pipe) only the epoch line and the final line are
/// written, so logs hold no carriage returns. Values are printed as Keras's Progbar prints them: <c>%.4f</c>, or
/// <c>%.4e</c> when |value| ≤ 1e-3, with Python's rounding (exact value, ties to even), invariant culture.
/// </remarks>
public sealed class ProgressReporter : ITrainingObserver
{
    /// <summary>Width of the bar between the brackets, as in Keras.</summary>
    public const int BarWidth = 30;

    /// <summary>Minimum time between two redraws of the live line (at most ten a second).</summary>
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private static readonly long ClockOrigin = Stopwatch.GetTimestamp();

    private readonly TextWriter _output;
    private readonly Func<TimeSpan> _clock;
    private readonly StringBuilder _line = new(160);

    private int _steps;
    private TimeSpan _start;
    private TimeSpan _lastDraw;
    private TimeSpan _afterFirstStep;
    private bool _haveFirstStep;
    private bool _drawn;
    private int _lastWidth;

    /// <summary>Creates a reporter writing to <paramref name="output"/>.</summary>
    /// <param name="output">Where the progress goes (usually <see cref="Console.Out"/>).</param>
    /// <param name="live">Whether to redraw a progress line with <c>'\r'</c> during the epoch (a terminal) or to print only the epoch and final lines (a log).</param>
    /// <param name="clock">Monotonic time source for the ETA and the redraw rate; a stopwatch when null. Tests pass a fake one.</param>
    public ProgressReporter(TextWriter output, bool live, Func<TimeSpan>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        Live = live;
        _clock = clock ?? SystemClock;
    }

    /// <summary>Whether a live line is redrawn during the epoch.</summary>
    public bool Live { get; }

    /// <summary>A reporter on <see cref="Console.Out"/>, live when the console output is not redirected.</summary>
    public static ProgressReporter ForConsole() => new(Console.Out, !Console.IsOutputRedirected);

    /// <summary>Prints <c>Epoch {epoch}/{epochs}</c> and starts a bar of <paramref name="steps"/> batches.</summary>
    /// <param name="epoch">1-based epoch number.</param>
    /// <param name="epochs">Total number of epochs.</param>
    /// <param name="steps">Batches in this epoch.</param>
    public void BeginEpoch(int epoch, int epochs, int steps)
    {
        if (epoch < 1 || epoch > epochs)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"The epoch number must be between 1 and the number of epochs ({epochs}).");
        }

        _output.Write(string.Create(CultureInfo.InvariantCulture, $"Epoch {epoch}/{epochs}\n"));
        Begin(steps);
    }

    /// <summary>Starts a bar of <paramref name="steps"/> batches without an epoch line (Keras's <c>evaluate</c> output).</summary>
    public void BeginEvaluation(int steps) => Begin(steps);

    /// <summary>
    /// Notes that <paramref name="step"/> batches are done; in live mode redraws the line when the last redraw is at
    /// least <see cref="RedrawInterval"/> old. Cheap, and allocation-free when it does not redraw.
    /// </summary>
    /// <param name="step">Batches done so far, 1..steps.</param>
    /// <param name="loss">Mean loss of the epoch so far (Keras shows running means).</param>
    /// <param name="accuracy">Accuracy of the epoch so far.</param>
    public void Report(int step, double loss, double accuracy)
    {
        if ((uint)step > (uint)_steps)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"The step must be between 0 and the steps of this epoch ({_steps}); call BeginEpoch first.");
        }

        if (!Live)
        {
            return;
        }

        TimeSpan now = _clock();
        if (step == 1)
        {
            // Keras leaves the first step out of the ETA: it carries one-time costs (warm-up, compilation).
            _afterFirstStep = now;
            _haveFirstStep = true;
        }

        if (_drawn && now - _lastDraw < RedrawInterval)
        {
            return;
        }

        _drawn = true;
        _lastDraw = now;
        double perStep = step == 0 ? 0
            : _haveFirstStep && step > 1 ? (now - _afterFirstStep).TotalSeconds / (step - 1)
            : (now - _start).TotalSeconds / step;
        _line.Clear().Append('\r');
        AppendLiveLine(_line, step, _steps, perStep * (_steps - step), loss, accuracy);
        PadAndRemember(_line);
        _output.Write(_line);
        _output.Flush();
    }

    /// <summary>Prints the epoch's final line (and, in live mode, replaces the live line with it).</summary>
    /// <param name="elapsed">Time the epoch took (shown in whole seconds; per step it is elapsed / steps).</param>
    /// <param name="loss">Mean training loss of the epoch.</param>
    /// <param name="accuracy">Training accuracy of the epoch.</param>
    /// <param name="valLoss">Validation loss, or null when no validation ran.</param>
    /// <param name="valAccuracy">Validation accuracy, or null when no validation ran.</param>
    public void EndEpoch(TimeSpan elapsed, double loss, double accuracy, double? valLoss, double? valAccuracy)
    {
        _line.Clear();
        if (Live)
        {
            _line.Append('\r');
        }

        AppendFinalLine(_line, _steps, elapsed, loss, accuracy, valLoss, valAccuracy);
        if (Live)
        {
            PadAndRemember(_line);
        }

        _line.Append('\n');
        _output.Write(_line);
        _output.Flush();
        _drawn = false;
        _lastWidth = 0;
    }

    // As an observer of Fit: the same lines, redrawn at most every RedrawInterval on a GPU too when live.
    TimeSpan ITrainingObserver.BatchInterval => Live ? RedrawInterval : TimeSpan.MaxValue;

    void ITrainingObserver.OnEpochBegin(int epoch, int epochs, int steps) => BeginEpoch(epoch, epochs, steps);

    void ITrainingObserver.OnBatchEnd(int step, double loss, double accuracy) => Report(step, loss, accuracy);

    void ITrainingObserver.OnEpochEnd(EpochSummary summary) =>
        EndEpoch(summary.Elapsed, summary.Loss, summary.Accuracy, summary.ValLoss, summary.ValAccuracy);

    void ITrainingObserver.OnMessage(string message) => WriteMessage(message);

    /// <summary>Prints <paramref name="message"/> on a line of its own (ending a live line first, which is drawn again on the next batch).</summary>
    public void WriteMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Live && _drawn)
        {
            _output.Write('\n');
            _drawn = false;
            _lastWidth = 0;
        }

        _output.Write(message);
        _output.Write('\n');
        _output.Flush();
    }

    /// <summary>Prints the final line of an evaluation started with <see cref="BeginEvaluation"/>.</summary>
    public void EndEvaluation(TimeSpan elapsed, double loss, double accuracy) => EndEpoch(elapsed, loss, accuracy, null, null);

    /// <summary>The final line of an epoch as Keras 2 prints it, without a line break.</summary>
    public static string FormatFinalLine(int steps, TimeSpan elapsed, double loss, double accuracy, double? valLoss = null, double? valAccuracy = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var sb = new StringBuilder(160);
        AppendFinalLine(sb, steps, elapsed, loss, accuracy, valLoss, valAccuracy);
        return sb.ToString();
    }

    /// <summary>The live line as Keras 2 draws it during an epoch, without the leading <c>'\r'</c>.</summary>
    /// <param name="step">Batches done, 0..steps.</param>
    /// <param name="steps">Batches in the epoch.</param>
    /// <param name="etaSeconds">Estimated seconds left.</param>
    /// <param name="loss">Running mean loss.</param>
    /// <param name="accuracy">Running accuracy.</param>
    public static string FormatLiveLine(int step, int steps, double etaSeconds, double loss, double accuracy)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(step, steps);
        var sb = new StringBuilder(120);
        AppendLiveLine(sb, step, steps, etaSeconds, loss, accuracy);
        return sb.ToString();
    }

    /// <summary>
    /// Formats a metric value as Keras 2's Progbar does: Python's <c>%.4f</c> when |value| &gt; 1e-3, else <c>%.4e</c>
    /// (so 1.5e-05 prints as <c>1.5000e-05</c>); <c>nan</c>, <c>inf</c>, <c>-inf</c> as Python writes them.
    /// </summary>
    public static string FormatValue(double value)
    {
        var sb = new StringBuilder(16);
        AppendValue(sb, value);
        return sb.ToString();
    }

    private void Begin(int steps)
    {
        if (steps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "An epoch needs at least one step (batch); check that the data set is not empty.");
        }

        _steps = steps;
        _start = _clock();
        _haveFirstStep = false;
        _drawn = false;
        _lastWidth = 0;
    }

    private static TimeSpan SystemClock() => Stopwatch.GetElapsedTime(ClockOrigin);

    /// <summary>Pads with spaces over what the previous live line covered (everything after the leading '\r').</summary>
    private void PadAndRemember(StringBuilder line)
    {
        int width = line.Length - 1;
        if (width < _lastWidth)
        {
            line.Append(' ', _lastWidth - width);
        }

        _lastWidth = Math.Max(width, _lastWidth);
    }

    private static void AppendBar(StringBuilder sb, int step, int steps)
    {
        int digits = CountDigits(steps);
        int stepDigits = CountDigits(step);
        sb.Append(' ', Math.Max(0, digits - stepDigits));
        sb.Append(step).Append('/').Append(steps).Append(" [");

        // Python: prog_width = int(width * (current / target)).
        int filled = (int)(BarWidth * ((double)step / steps));
        if (filled > 0)
        {
            sb.Append('=', filled - 1);
            sb.Append(step < steps ? '>' : '=');
        }

        sb.Append('.', BarWidth - filled);
        sb.Append(']');
    }

    private static void AppendLiveLine(StringBuilder sb, int step, int steps, double etaSeconds, double loss, double accuracy)
    {
        AppendBar(sb, step, steps);
        sb.Append(" - ETA: ");
        AppendEta(sb, etaSeconds);
        AppendMetrics(sb, loss, accuracy, null, null);
    }

    private static void AppendFinalLine(StringBuilder sb, int steps, TimeSpan elapsed, double loss, double accuracy, double? valLoss, double? valAccuracy)
    {
        AppendBar(sb, steps, steps);
        double seconds = elapsed.TotalSeconds;
        sb.Append(" - ");
        AppendRounded(sb, seconds);
        sb.Append("s ");

        double perStep = seconds / steps;
        if (perStep >= 1 || perStep == 0)
        {
            AppendRounded(sb, perStep);
            sb.Append("s/step");
        }
        else if (perStep >= 1e-3)
        {
            AppendRounded(sb, perStep * 1e3);
            sb.Append("ms/step");
        }
        else
        {
            AppendRounded(sb, perStep * 1e6);
            sb.Append("us/step");
        }

        AppendMetrics(sb, loss, accuracy, valLoss, valAccuracy);
    }

    private static void AppendMetrics(StringBuilder sb, double loss, double accuracy, double? valLoss, double? valAccuracy)
    {
        sb.Append(" - loss: ");
        AppendValue(sb, loss);
        sb.Append(" - accuracy: ");
        AppendValue(sb, accuracy);
        if (valLoss is { } vl)
        {
            sb.Append(" - val_loss: ");
            AppendValue(sb, vl);
        }

        if (valAccuracy is { } va)
        {
            sb.Append(" - val_accuracy: ");
            AppendValue(sb, va);
        }
    }

    /// <summary>Keras's ETA: <c>h:mm:ss</c> over an hour, <c>m:ss</c> over a minute, else <c>Ns</c>, each part truncated.</summary>
    private static void AppendEta(StringBuilder sb, double eta)
    {
        if (!double.IsFinite(eta) || eta < 0)
        {
            eta = 0;
        }

        long whole = (long)Math.Min(eta, long.MaxValue / 2);
        if (eta > 3600)
        {
            sb.Append(whole / 3600).Append(':');
            Append2(sb, (int)(whole % 3600 / 60));
            sb.Append(':');
            Append2(sb, (int)(whole % 60));
        }
        else if (eta > 60)
        {
            sb.Append(whole / 60).Append(':');
            Append2(sb, (int)(whole % 60));
        }
        else
        {
            sb.Append(whole).Append('s');
        }
    }

    private static void Append2(StringBuilder sb, int value)
    {
        sb.Append((char)('0' + value / 10)).Append((char)('0' + value % 10));
    }

    /// <summary>Python's <c>%.0f</c>: the exact value rounded half to even.</summary>
    private static void AppendRounded(StringBuilder sb, double value)
    {
        sb.Append(Math.Round(value, MidpointRounding.ToEven).ToString("F0", CultureInfo.InvariantCulture));
    }

    private static void AppendValue(StringBuilder sb, double value)
    {
        if (double.IsNaN(value))
        {
            sb.Append("nan");
        }
        else if (double.IsInfinity(value))
        {
            sb.Append(value > 0 ? "inf" : "-inf");
        }
        else if (Math.Abs(value) > 1e-3)
        {
            AppendFixed4(sb, value);
        }
        else
        {
            sb.Append(value.ToString("0.0000e+00", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Python's <c>%.4f</c> of a finite double: the exact binary value rounded to 4 decimals, ties to even. .NET's "F4"
    /// rounds ties away from zero, which differs on values such as 9/32 = 0.28125 (Python: 0.2812), common in batch accuracies.
    /// </summary>
    private static void AppendFixed4(StringBuilder sb, double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        ulong mantissa = (ulong)bits & 0xF_FFFF_FFFF_FFFFUL;
        if (biased == 0)
        {
            biased = 1;
        }
        else
        {
            mantissa |= 1UL << 52;
        }

        int exponent = biased - 1075; // value = ±mantissa · 2^exponent
        if (exponent >= 0)
        {
            // An integer: nothing to round.
            sb.Append(value.ToString("F4", CultureInfo.InvariantCulture));
            return;
        }

        UInt128 scaled = (UInt128)mantissa * 10_000u;
        int shift = -exponent;
        UInt128 quotient = 0;
        if (shift < 70)
        {
            // Below that, scaled < 2^67 is under half a unit: the result is 0.
            quotient = scaled >> shift;
            UInt128 remainder = scaled - (quotient << shift);
            UInt128 half = (UInt128)1 << (shift - 1);
            if (remainder > half || (remainder == half && (quotient & 1) == 1))
            {
                quotient++;
            }
        }

        if (bits < 0)
        {
            sb.Append('-');
        }

        UInt128 integral = quotient / 10_000u;
        int fraction = (int)(quotient % 10_000u);
        sb.Append(integral.ToString(CultureInfo.InvariantCulture)).Append('.');
        sb.Append((char)('0' + fraction / 1000))
          .Append((char)('0' + fraction / 100 % 10))
          .Append((char)('0' + fraction / 10 % 10))
          .Append((char)('0' + fraction % 10));
    }

    private static int CountDigits(int value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }
}

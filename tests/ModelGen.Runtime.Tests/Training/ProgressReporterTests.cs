namespace ModelGen.Runtime.Tests.Training;

public class ProgressReporterTests
{
    private sealed class FakeClock
    {
        public TimeSpan Now;

        public void At(double seconds) => Now = TimeSpan.FromSeconds(seconds);
    }

    [Fact]
    public void FinalLine_MatchesKerasExactly()
    {
        string line = ProgressReporter.FormatFinalLine(1875, TimeSpan.FromSeconds(54), 0.1732, 0.9461, 0.1029, 0.9656);
        Assert.Equal(
            "1875/1875 [==============================] - 54s 29ms/step - loss: 0.1732 - accuracy: 0.9461 - val_loss: 0.1029 - val_accuracy: 0.9656",
            line);
    }

    [Fact]
    public void FinalLine_WithoutValidation_HasNoValParts()
    {
        string line = ProgressReporter.FormatFinalLine(157, TimeSpan.FromSeconds(0.6), 0.04013, 0.98604);
        Assert.Equal("157/157 [==============================] - 1s 4ms/step - loss: 0.0401 - accuracy: 0.9860", line);
    }

    [Theory]
    [InlineData(1875, 1.2, " - 1s 640us/step")]      // under 1 ms per step: microseconds
    [InlineData(3, 7.5, " - 8s 2s/step")]            // Python's %.0f rounds ties to even: 7.5 -> 8, 2.5 -> 2
    [InlineData(10, 0.0, " - 0s 0s/step")]
    [InlineData(100, 99.96, " - 100s 1000ms/step")]  // 0.9996 s is still below 1 s, so Keras prints ms
    public void FinalLine_TimeUnitsFollowKeras(int steps, double seconds, string expectedTime)
    {
        string line = ProgressReporter.FormatFinalLine(steps, TimeSpan.FromSeconds(seconds), 0.5, 0.5);
        string bar = "[" + new string('=', 30) + "]";
        Assert.Equal($"{steps}/{steps} {bar}{expectedTime} - loss: 0.5000 - accuracy: 0.5000", line);
    }

    [Theory]
    [InlineData(0.28125, "0.2812")]       // exact tie: Python rounds half to even
    [InlineData(0.03125, "0.0312")]
    [InlineData(0.00125, "0.0013")]       // the double is slightly above the tie
    [InlineData(0.123456, "0.1235")]
    [InlineData(2.5, "2.5000")]
    [InlineData(-0.5, "-0.5000")]
    [InlineData(1.5e-5, "1.5000e-05")]    // |value| <= 1e-3: Keras switches to %.4e
    [InlineData(0.001, "1.0000e-03")]
    [InlineData(0.0, "0.0000e+00")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(12345.678901, "12345.6789")]
    public void FormatValue_MatchesPythonFormatting(double value, string expected)
    {
        Assert.Equal(expected, ProgressReporter.FormatValue(value));
    }

    [Theory]
    [InlineData(0, 1875, "   0/1875 [..............................]")]
    [InlineData(12, 1875, "  12/1875 [..............................]")]   // int(30·12/1875) = 0: Keras draws no arrow yet
    [InlineData(63, 1875, "  63/1875 [>.............................]")]
    [InlineData(1, 20, " 1/20 [>.............................]")]
    [InlineData(11, 20, "11/20 [===============>..............]")]
    [InlineData(1874, 1875, "1874/1875 [============================>.]")]
    public void LiveLine_BarFollowsKerasProgbar(int step, int steps, string expectedBar)
    {
        string line = ProgressReporter.FormatLiveLine(step, steps, 65.9, 0.2345, 0.9123);
        Assert.Equal(expectedBar + " - ETA: 1:05 - loss: 0.2345 - accuracy: 0.9123", line);
    }

    [Theory]
    [InlineData(0.4, "0s")]
    [InlineData(59.9, "59s")]
    [InlineData(60.0, "60s")]
    [InlineData(61.5, "1:01")]
    [InlineData(3599, "59:59")]
    [InlineData(3725.2, "1:02:05")]
    public void LiveLine_EtaFollowsKeras(double eta, string expected)
    {
        string line = ProgressReporter.FormatLiveLine(5, 10, eta, 1, 1);
        Assert.Contains($" - ETA: {expected} - ", line);
    }

    [Fact]
    public void LiveMode_RedrawsWithCarriageReturnAtMostTenTimesASecond()
    {
        var clock = new FakeClock();
        var output = new StringWriter();
        var reporter = new ProgressReporter(output, live: true, () => clock.Now);

        clock.At(0);
        reporter.BeginEpoch(1, 2, 20);
        clock.At(1.0);
        reporter.Report(1, 0.9, 0.5);        // first report: drawn; ETA = 1 s/step · 19
        clock.At(1.05);
        reporter.Report(2, 0.8, 0.5);        // 50 ms later: skipped
        clock.At(6.0);
        reporter.Report(11, 0.4, 0.75);      // drawn; ETA from steps after the first: 5 s / 10 steps · 9 = 4.5 s
        clock.At(6.05);
        reporter.Report(20, 0.3, 0.8);       // skipped
        reporter.EndEpoch(TimeSpan.FromSeconds(7), 0.3, 0.8, 0.25, 0.9);

        string expected =
            "Epoch 1/2\n"
            + "\r 1/20 [>.............................] - ETA: 19s - loss: 0.9000 - accuracy: 0.5000"
            + "\r11/20 [===============>..............] - ETA: 4s - loss: 0.4000 - accuracy: 0.7500 " // padded over the longer line before
            + "\r20/20 [==============================] - 7s 350ms/step - loss: 0.3000 - accuracy: 0.8000 - val_loss: 0.2500 - val_accuracy: 0.9000\n";
        Assert.Equal(expected, output.ToString());
    }

    [Fact]
    public void LiveMode_EtaOverAMinute()
    {
        var clock = new FakeClock();
        var output = new StringWriter();
        var reporter = new ProgressReporter(output, live: true, () => clock.Now);
        reporter.BeginEpoch(3, 10, 1875);
        clock.At(1.0);
        reporter.Report(1, 0.5, 0.5);
        clock.At(1.5);
        reporter.Report(13, 0.2345, 0.9123);   // 0.5 s / 12 steps · 1862 left = 77.6 s

        // The first line (ETA 31:14) was longer, so the second is padded with spaces over it.
        string last = output.ToString().Split('\r')[^1];
        Assert.Equal("  13/1875 [..............................] - ETA: 1:17 - loss: 0.2345 - accuracy: 0.9123 ", last);
    }

    [Fact]
    public void NonLiveMode_PrintsOnlyEpochAndFinalLines()
    {
        var clock = new FakeClock();
        var output = new StringWriter();
        var reporter = new ProgressReporter(output, live: false, () => clock.Now);
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            reporter.BeginEpoch(epoch, 2, 1875);
            for (int step = 1; step <= 1875; step++)
            {
                clock.Now += TimeSpan.FromMilliseconds(29);
                reporter.Report(step, 0.2, 0.9);
            }

            reporter.EndEpoch(TimeSpan.FromSeconds(54), 0.1732, 0.9461, 0.1029, 0.9656);
        }

        string line = "1875/1875 [==============================] - 54s 29ms/step - loss: 0.1732 - accuracy: 0.9461 - val_loss: 0.1029 - val_accuracy: 0.9656\n";
        Assert.Equal("Epoch 1/2\n" + line + "Epoch 2/2\n" + line, output.ToString());
        Assert.DoesNotContain('\r', output.ToString());
    }

    [Fact]
    public void Evaluation_PrintsBarWithoutEpochLine()
    {
        var output = new StringWriter();
        var reporter = new ProgressReporter(output, live: false, () => TimeSpan.Zero);
        reporter.BeginEvaluation(157);
        reporter.Report(157, 0.0401, 0.986);
        reporter.EndEvaluation(TimeSpan.FromSeconds(0.5), 0.0401, 0.986);
        Assert.Equal("157/157 [==============================] - 0s 3ms/step - loss: 0.0401 - accuracy: 0.9860\n", output.ToString());
    }

    [Fact]
    public void Report_DoesNotAllocateWhenItSkipsTheRedraw()
    {
        var clock = new FakeClock();
        var output = new StringWriter();
        var live = new ProgressReporter(output, live: true, () => clock.Now);
        var quiet = new ProgressReporter(TextWriter.Null, live: false, () => clock.Now);
        live.BeginEpoch(1, 1, 10_000);
        quiet.BeginEpoch(1, 1, 10_000);
        live.Report(1, 0.5, 0.5);              // drawn
        for (int step = 2; step < 100; step++)
        {
            live.Report(step, 0.5, 0.5);       // warm-up, same instant: skipped
            quiet.Report(step, 0.5, 0.5);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 100; step < 5_000; step++)
        {
            live.Report(step, 0.5, 0.5);
            quiet.Report(step, 0.5, 0.5);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Report_RejectsStepOutsideTheEpoch()
    {
        var reporter = new ProgressReporter(TextWriter.Null, live: true, () => TimeSpan.Zero);
        reporter.BeginEpoch(1, 1, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => reporter.Report(11, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => reporter.Report(-1, 0, 0));
    }
}

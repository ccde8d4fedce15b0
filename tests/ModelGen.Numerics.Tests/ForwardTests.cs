using ModelGen.Numerics.Tests.Models;
using ModelGen.Numerics.Tests.Reference;
using static ModelGen.Numerics.Tests.Reference.Numerics;

namespace ModelGen.Numerics.Tests;

/// <summary>The generated forward pass, losses and model description against the double-precision reference.</summary>
public class ForwardTests
{
    public static TheoryData<string> AllModels() => Catalog.AllNames();

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Forward_RandomWeightsAndInputs_LogitsMatchReference(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var p = RandomizeParameters(network, c.Reference, seed: 101);
        var random = new Random(202);

        // A workspace laid out for more samples than the pass runs, starting as NaN and reused: nothing stale may leak in.
        using var passes = new Passes(network, capacity: 5);
        for (var pass = 0; pass < 2; pass++)
        {
            var samples = Enumerable.Range(0, 3).Select(_ => RandomSample(c.Reference, random).Input).ToArray();
            var logits = passes.Forward(samples);
            for (var s = 0; s < samples.Length; s++)
            {
                AssertForwardClose(logits[s], c.Reference.Run(p, samples[s]).Logits, $"{model} logits, pass {pass}, sample {s}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void PredictAndPredictBatch_RandomWeightsAndInputs_OutputsMatchReference(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var p = RandomizeParameters(network, c.Reference, seed: 303);
        var random = new Random(404);
        var samples = Enumerable.Range(0, 7).Select(_ => RandomSample(c.Reference, random).Input).ToArray();
        var batch = network.Description.OutputLength;

        var outputs = Inference.PredictBatch(network, samples.SelectMany(s => s).ToArray());
        for (var s = 0; s < samples.Length; s++)
        {
            var expected = c.Reference.Run(p, samples[s]).Output;
            AssertForwardClose(Inference.Predict(network, samples[s]), expected, $"{model} Predict, sample {s}");
            AssertForwardClose(outputs.AsSpan(s * batch, batch), expected, $"{model} PredictBatch, sample {s}");
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Evaluate_RandomWeightsAndInputs_LossAndAccuracyMatchReference(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var p = RandomizeParameters(network, c.Reference, seed: 505);
        var random = new Random(606);
        var samples = Enumerable.Range(0, 9).Select(_ => RandomSample(c.Reference, random)).ToArray();
        var data = new Dataset(samples.SelectMany(s => s.Input).ToArray(), samples.Select(s => s.Label).ToArray(), samples[0].Input.Length);

        var result = Trainer.Evaluate(network, data, threads: 2);

        var doubles = samples.Select(s => (ToDouble(s.Input), s.Label)).ToArray();
        AssertScalarClose(result.Loss, c.Reference.Loss(p, doubles) / samples.Length, $"{model} Evaluate loss");
        var hits = samples.Count(s =>
        {
            var logits = c.Reference.Run(p, s.Input).Logits;
            return Array.IndexOf(logits, logits.Max()) == s.Label;
        });
        Assert.Equal((double)hits / samples.Length, result.Accuracy);
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Forward_SampleAloneOrInABatchOnAnyThreadCount_BitIdentical(string model)
    {
        // Each output is one multiply-add chain in a fixed order, whatever the batch, the sample's place in it and the
        // threads: so the same sample gives the same bits everywhere (and a model evaluated in batches predicts like it).
        var c = Catalog.Get(model);
        var network = c.Create(1);
        RandomizeParameters(network, c.Reference, seed: 707);
        var random = new Random(808);
        var samples = Enumerable.Range(0, 29).Select(_ => RandomSample(c.Reference, random).Input).ToArray();

        using var one = new Passes(network, capacity: 29, threads: 1);
        using var three = new Passes(network, capacity: 29, threads: 3);
        var alone = samples.Select(s => one.Forward([s])[0]).ToArray();
        var batched = one.Forward(samples);
        var threaded = three.Forward(samples);
        for (var s = 0; s < samples.Length; s++)
        {
            Assert.Equal(alone[s], batched[s]);
            Assert.Equal(alone[s], threaded[s]);
        }
    }

    [Fact]
    public void Forward_SoftmaxOutputs_AreProbabilities()
    {
        // The reference could share a softmax mistake with the generated code only if both were wrong the same way;
        // this checks the defining property directly.
        var c = Catalog.Get(nameof(LeNet5));
        var network = c.Create(5);
        var (input, _) = RandomSample(c.Reference, new Random(6));
        var output = Inference.Predict(network, input);
        Assert.All(output, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1.0, output.Sum(v => (double)v), 5);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(0, 0, 1)]
    [InlineData(1, 2, 3)]
    [InlineData(2, 3, 4)]
    [InlineData(2, 0, 2)]
    public void Forward_FlattenOrder_IsChannelsLast(int y, int x, int channel)
    {
        // Flatten -> Dense(1) with dense/kernel[i, 0] = i + 1 and a one-hot image at (y, x, channel): the output is the flat
        // index the pixel landed on, plus one. Keras (channels last) puts it at (y·W + x)·C + c.
        const int W = 4, C = 5;
        var network = new FlattenProbe(1);
        var kernel = FlattenProbe.ModelDescription.GetView("dense/kernel").Of(network.Parameters);
        for (var i = 0; i < kernel.Length; i++) kernel[i] = i + 1;
        FlattenProbe.ModelDescription.GetView("dense/bias").Of(network.Parameters).Clear();
        var image = new float[FlattenProbe.InputLength];
        image[(y * W + x) * C + channel] = 1f;
        var output = Inference.Predict(network, image);
        Assert.Equal((y * W + x) * C + channel + 1, output[0]);
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Description_ShapesNamesAndLayout_MatchReference(string model)
    {
        var c = Catalog.Get(model);
        var r = c.Reference;
        var d = c.Description;

        Assert.Equal(r.Input.ToArray(), d.InputShape);
        Assert.Equal(r.Input.Length, d.InputLength);
        Assert.Equal(r.Output.Length, d.OutputLength);
        Assert.Equal(r.ParameterCount, d.ParameterCount);
        Assert.Equal(r.SoftmaxOutput, d.SoftmaxOutput);
        Assert.Equal(r.Layers.Count, d.Layers.Count);
        for (var i = 0; i < r.Layers.Count; i++)
        {
            var (expected, actual) = (r.Layers[i], d.Layers[i]);
            Assert.Equal(expected.Name, actual.Name);
            Assert.Equal(expected.Kind.ToString(), actual.Kind);
            Assert.Equal(expected.Out.ToArray(), actual.OutputShape);
            Assert.Equal(expected.ParameterCount, actual.ParameterCount);
        }

        var views = r.Views().ToList();
        Assert.Equal(views.Count, d.ParameterViews.Count);
        for (var i = 0; i < views.Count; i++)
        {
            Assert.Equal(views[i].Name, d.ParameterViews[i].Name);
            Assert.Equal(views[i].Offset, d.ParameterViews[i].Offset);
            Assert.Equal(views[i].Shape, d.ParameterViews[i].Shape);
        }

        // The instance and the static description agree.
        Assert.Same(d, c.Create(1).Description);
    }
}

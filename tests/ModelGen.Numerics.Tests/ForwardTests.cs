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
    public void Forward_RandomWeightsAndInputs_MatchesReference(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var d = network.Description;
        var p = RandomizeParameters(network, c.Reference, seed: 101);
        var random = new Random(202);

        // Stale values in the workspace must not leak into results: start from NaN and reuse the buffers.
        var workspace = new float[d.WorkspaceLength];
        Array.Fill(workspace, float.NaN);
        var output = new float[d.OutputLength];
        for (var s = 0; s < 3; s++)
        {
            var (input, label) = RandomSample(c.Reference, random);
            var (expected, _) = c.Reference.Run(p, input);
            Array.Fill(output, float.NaN);
            network.Forward(input, workspace, output);
            AssertForwardClose(output, expected, $"{model} Forward, sample {s}");
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void ForwardLossAndForwardBackward_RandomWeightsAndInputs_LossAndOutputMatchReference(string model)
    {
        var c = Catalog.Get(model);
        var network = c.Create(1);
        var d = network.Description;
        var p = RandomizeParameters(network, c.Reference, seed: 303);
        var random = new Random(404);
        var workspace = new float[d.WorkspaceLength];
        Array.Fill(workspace, float.NaN);
        var output = new float[d.OutputLength];
        var gradient = new float[d.ParameterCount];
        for (var s = 0; s < 3; s++)
        {
            var (input, label) = RandomSample(c.Reference, random);
            var (expected, _) = c.Reference.Run(p, input);
            var loss = c.Reference.Loss(p, Array.ConvertAll(input, v => (double)v), label);

            Array.Fill(output, float.NaN);
            AssertScalarClose(network.ForwardLoss(input, label, workspace, output), loss, $"{model} ForwardLoss, sample {s}");
            AssertForwardClose(output, expected, $"{model} ForwardLoss output, sample {s}");

            Array.Fill(output, float.NaN);
            AssertScalarClose(network.ForwardBackward(input, label, workspace, output, gradient), loss, $"{model} ForwardBackward loss, sample {s}");
            AssertForwardClose(output, expected, $"{model} ForwardBackward output, sample {s}");
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
        var output = new float[LeNet5.OutputLength];
        network.Forward(input, new float[LeNet5.WorkspaceLength], output);
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
        var output = new float[1];
        network.Forward(image, new float[FlattenProbe.WorkspaceLength], output);
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

using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The planner without a compiler: layer stacks written out by hand (shapes computed in the comments) go in, and the
/// plan's names, parameter layout, buffers, costs and micro-batch are checked against Keras and against arithmetic.
/// </summary>
public class PlannerTests
{
    internal static ShapedLayer Conv(int position, Shape input, Shape output, int filters, int kernel, int stride = 1,
        PaddingKind padding = PaddingKind.Valid, int padTop = 0, int padLeft = 0, ActivationKind activation = ActivationKind.None) =>
        new(position, LayerKind.Conv2D, input, output, filters, kernel, stride, padding, padTop, padLeft, activation);

    internal static ShapedLayer Pool(int position, LayerKind kind, Shape input, Shape output, int size, int stride) =>
        new(position, kind, input, output, 0, size, stride, PaddingKind.Valid, 0, 0, ActivationKind.None);

    internal static ShapedLayer Flatten(int position, Shape input) =>
        new(position, LayerKind.Flatten, input, Shape.Flat((int)input.Length), 0, 0, 0, PaddingKind.Valid, 0, 0, ActivationKind.None);

    internal static ShapedLayer Dense(int position, int inputs, int units, ActivationKind activation = ActivationKind.None) =>
        new(position, LayerKind.Dense, Shape.Flat(inputs), Shape.Flat(units), units, 0, 0, PaddingKind.Valid, 0, 0, activation);

    /// <summary>The sample's LeNet-5 ('same' padding both convolutions).</summary>
    internal static ModelPlan LeNet5() => ModelPlanner.Plan("LeNet5Sample", "LeNet5", Shape.Image(28, 28, 1),
    [
        Conv(1, Shape.Image(28, 28, 1), Shape.Image(28, 28, 6), 6, 5, padding: PaddingKind.Same, padTop: 2, padLeft: 2, activation: ActivationKind.Tanh),
        Pool(2, LayerKind.MaxPool2D, Shape.Image(28, 28, 6), Shape.Image(14, 14, 6), 2, 2),
        Conv(3, Shape.Image(14, 14, 6), Shape.Image(14, 14, 16), 16, 5, padding: PaddingKind.Same, padTop: 2, padLeft: 2, activation: ActivationKind.Tanh),
        Pool(4, LayerKind.MaxPool2D, Shape.Image(14, 14, 16), Shape.Image(7, 7, 16), 2, 2),
        Flatten(5, Shape.Image(7, 7, 16)),
        Dense(6, 784, 120, ActivationKind.Tanh),
        Dense(7, 120, 84, ActivationKind.Tanh),
        Dense(8, 84, 10, ActivationKind.Softmax),
    ]);

    [Fact]
    public void LeNet5_NamesAndParameterLayout_AreKeras()
    {
        var plan = LeNet5();
        Assert.Equal(
            ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense", "dense_1", "dense_2"],
            plan.Layers.Select(l => l.KerasName));

        // Keras's get_weights() order, kernel then bias per layer: (5*5*1*6 + 6), (5*5*6*16 + 16), (784*120 + 120), (120*84 + 84), (84*10 + 10).
        (string Name, int Length, int[] Shape)[] expected =
        [
            ("conv2d/kernel", 150, [5, 5, 1, 6]), ("conv2d/bias", 6, [6]),
            ("conv2d_1/kernel", 2400, [5, 5, 6, 16]), ("conv2d_1/bias", 16, [16]),
            ("dense/kernel", 94080, [784, 120]), ("dense/bias", 120, [120]),
            ("dense_1/kernel", 10080, [120, 84]), ("dense_1/bias", 84, [84]),
            ("dense_2/kernel", 840, [84, 10]), ("dense_2/bias", 10, [10]),
        ];
        var parameters = plan.Parameters.ToList();
        Assert.Equal(expected.Select(e => e.Name), parameters.Select(p => p.KerasName));
        Assert.Equal(expected.Select(e => e.Length), parameters.Select(p => p.Length));
        Assert.Equal(expected.Select(e => string.Join(",", e.Shape)), parameters.Select(p => string.Join(",", p.Shape)));

        // Contiguous, in order, with nothing between them; the total is Keras's "Total params" for this network.
        var offset = 0;
        foreach (var p in parameters)
        {
            Assert.Equal(offset, p.Offset);
            offset += p.Length;
        }

        Assert.Equal(107_786, offset);
        Assert.Equal(107_786, plan.ParameterCount);
    }

    [Fact]
    public void LeNet5_GlorotFans_AreKeras()
    {
        // Keras: fan_in = receptive field * input channels, fan_out = receptive field * filters (Dense: inputs, units).
        var fans = LeNet5().Layers.Where(l => l.HasParameters).Select(l => (l.FanIn, l.FanOut));
        Assert.Equal([(25, 150), (150, 400), (784, 120), (120, 84), (84, 10)], fans);
    }

    [Fact]
    public void LeNet5_MultiplyAdds_AreTheHandCount()
    {
        var plan = LeNet5();
        // conv2d 28*28*6 outputs * 5*5*1; conv2d_1 14*14*16 * 5*5*6; dense 784*120; dense_1 120*84; dense_2 84*10.
        Assert.Equal([117_600, 0, 470_400, 0, 0, 94_080, 10_080, 840], plan.Layers.Select(l => l.MultiplyAdds));
        Assert.Equal(693_000, plan.ForwardMultiplyAdds);
    }

    [Fact]
    public void Buffers_AreNamedAfterTheirLayers_AndTileTheLayerArea()
    {
        var plan = LeNet5();
        Assert.Equal(
            ["conv2d_out", "max_pooling2d_out", "conv2d_1_out", "max_pooling2d_1_out", "dense_out", "dense_1_out",
             "conv2d_grad_out", "max_pooling2d_grad_out", "conv2d_1_grad_out", "max_pooling2d_1_grad_out", "dense_grad_out", "dense_1_grad_out"],
            plan.Buffers.Select(b => b.Identifier));

        long offset = 0;
        foreach (var buffer in plan.Buffers)
        {
            Assert.Equal(offset, buffer.OffsetPerSample);
            offset += buffer.PerSample;
        }

        Assert.Equal(offset, plan.BufferFloatsPerSample);

        // Flatten is a view of the pooled image; the last layer writes the contract's logits.
        var flatten = plan.Layers.Single(l => l.Kind == LayerKind.Flatten);
        Assert.True(flatten.IsView);
        Assert.Equal("max_pooling2d_1_out", flatten.OutputBuffer);
        Assert.Equal("max_pooling2d_1_out", plan.Layers.Single(l => l.KerasName == "dense").InputBuffer);
        Assert.Equal(ContractBuffers.Logits, plan.Last.OutputBuffer);
        Assert.Equal(ContractBuffers.LogitsGradient, plan.Last.OutputGradientBuffer);

        // Each layer reads what the one before wrote.
        Assert.Equal(ContractBuffers.Input, plan.Layers[0].InputBuffer);
        for (var i = 1; i < plan.Layers.Count; i++) Assert.Equal(plan.Layers[i - 1].OutputBuffer, plan.Layers[i].InputBuffer);
    }

    [Fact]
    public void Backward_StopsAtTheFirstTrainableLayer()
    {
        // Pooling first: nothing before it trains, so neither it nor the first convolution computes d(loss)/d(input).
        var plan = ModelPlanner.Plan("", "Net", Shape.Image(8, 8, 1),
        [
            Pool(1, LayerKind.AvgPool2D, Shape.Image(8, 8, 1), Shape.Image(4, 4, 1), 2, 2),
            Conv(2, Shape.Image(4, 4, 1), Shape.Image(2, 2, 3), 3, 3),
            Flatten(3, Shape.Image(2, 2, 3)),
            Dense(4, 12, 2, ActivationKind.Softmax),
        ]);
        Assert.Equal([false, true, true, true], plan.Layers.Select(l => l.RunsBackward));
        Assert.Equal([false, false, true, true], plan.Layers.Select(l => l.NeedsInputGradient));
        Assert.DoesNotContain(plan.Buffers, b => b.Identifier == "average_pooling2d_grad_out");
        Assert.Contains(plan.Buffers, b => b.Identifier == "conv2d_grad_out");
    }

    [Fact]
    public void PoolingAfterAnActivatedLayer_AppliesItsDerivative_AndThatLayerSkipsItsOwn()
    {
        var plan = LeNet5();
        Assert.Equal(
            [ActivationKind.None, ActivationKind.Tanh, ActivationKind.None, ActivationKind.Tanh, ActivationKind.None, ActivationKind.None, ActivationKind.None, ActivationKind.None],
            plan.Layers.Select(l => l.InputActivation));
        Assert.Equal([true, false, true, false, false, false, false, false], plan.Layers.Select(l => l.ActivationGradientByNext));

        // Nothing to fold: a linear convolution, or a pooling layer whose input gradient nothing needs.
        var linear = ModelPlanner.Plan("", "Net", Shape.Image(8, 8, 1),
        [
            Conv(1, Shape.Image(8, 8, 1), Shape.Image(6, 6, 2), 2, 3),
            Pool(2, LayerKind.MaxPool2D, Shape.Image(6, 6, 2), Shape.Image(3, 3, 2), 2, 2),
            Flatten(3, Shape.Image(3, 3, 2)),
            Dense(4, 18, 2, ActivationKind.Softmax),
        ]);
        Assert.All(linear.Layers, l => Assert.False(l.ActivationGradientByNext));
        Assert.All(linear.Layers, l => Assert.Equal(ActivationKind.None, l.InputActivation));
    }

    [Fact]
    public void MicroBatch_IsThePowerOfTwoThatFitsTheBudget()
    {
        foreach (var (side, channels) in new[] { (8, 1), (28, 1), (64, 8), (128, 16), (256, 32) })
        {
            var plan = ModelPlanner.Plan("", "Net", Shape.Image(side, side, 1),
            [
                Conv(1, Shape.Image(side, side, 1), Shape.Image(side, side, channels), channels, 3, padding: PaddingKind.Same, padTop: 1, padLeft: 1),
                Flatten(2, Shape.Image(side, side, channels)),
                Dense(3, side * side * channels, 10, ActivationKind.Softmax),
            ]);

            // Per sample: the input, logits and their gradient, and the layer area.
            var perSample = side * side + 2 * 10 + plan.BufferFloatsPerSample;
            var expected = ModelPlanner.MaxMicroBatch;
            while (expected > 1 && expected * perSample > ModelPlanner.MicroBatchBudget) expected /= 2;
            Assert.Equal(expected, plan.MicroBatch);
            Assert.True(plan.MicroBatch == 1 || plan.MicroBatch * perSample <= ModelPlanner.MicroBatchBudget);
            Assert.Equal(0, plan.MicroBatch & (plan.MicroBatch - 1));
        }
    }

    [Fact]
    public void Fingerprint_IsFnv1a64()
    {
        // Published FNV-1a 64-bit test vectors.
        Assert.Equal("cbf29ce484222325", ModelPlanner.Fingerprint(""));
        Assert.Equal("af63dc4c8601ec8c", ModelPlanner.Fingerprint("a"));
        Assert.Equal("85944171f73967e8", ModelPlanner.Fingerprint("foobar"));
    }

    [Fact]
    public void Architecture_ChangesWithEveryArgument()
    {
        var input = Shape.Image(10, 10, 1);
        ShapedLayer[] Stack(ShapedLayer conv) =>
        [
            conv,
            Flatten(2, conv.Output),
            Dense(3, (int)conv.Output.Length, 4, ActivationKind.Softmax),
        ];

        var baseline = Conv(1, input, Shape.Image(8, 8, 2), 2, 3, activation: ActivationKind.Relu);
        ShapedLayer[] variants =
        [
            baseline with { Size = 3, Output = Shape.Image(8, 8, 3) },
            baseline with { KernelSize = 5, Output = Shape.Image(6, 6, 2) },
            baseline with { Stride = 2, Output = Shape.Image(4, 4, 2) },
            baseline with { Padding = PaddingKind.Same, PadTop = 1, PadLeft = 1, Output = Shape.Image(10, 10, 2) },
            baseline with { Activation = ActivationKind.Tanh },
        ];

        var architectures = new[] { baseline }.Concat(variants).Select(v => ModelPlanner.Plan("", "Net", input, Stack(v)).Fingerprint).ToList();
        Assert.Equal(architectures.Count, architectures.Distinct().Count());
    }
}

using ModelGen.Generator.Model;
using ModelGen.Generator.Planning;
using static ModelGen.Generator.Tests.PlannerTests;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The exact costs of the plan (ModelCosts) against counts done by hand, the arithmetic in the comments. Multiply-adds
/// count window taps (padding zeros included, as the kernels multiply them); bytes are floats times 4. The workspace's
/// kernel scratch follows the runtime's rule: a padded copy of the input (2 × batch × padded image) when a window
/// reaches past it, plus the larger of the transposed weights (out × k × line rounded up to 16) and the kernel
/// gradient's partials (chunks × kernel, chunks = ceil(batch / 8) up to 8, 1 for a one-pixel output).
/// </summary>
public class CostTests
{
    [Fact]
    public void LeNet5_Costs_AreTheHandCount()
    {
        var costs = LeNet5().Costs;
        // conv2d 28·28·6 · 5·5·1 = 117,600; conv2d_1 14·14·16 · 5·5·6 = 470,400; dense 784·120 = 94,080;
        // dense_1 120·84 = 10,080; dense_2 84·10 = 840.
        Assert.Equal(117_600 + 470_400 + 94_080 + 10_080 + 840, costs.ForwardMultiplyAdds);
        Assert.Equal(693_000, costs.ForwardMultiplyAdds);
        // Forward 693,000, every kernel gradient 693,000 again, every input gradient but the first layer's 693,000 - 117,600.
        Assert.Equal(693_000 + 693_000 + 575_400, costs.TrainingMultiplyAdds);
        Assert.Equal(107_786 * 4, costs.ParameterBytes);
        Assert.Equal(2 * 107_786 * 4, costs.OptimizerStateBytes);
        // Input 784, conv2d 4,704, max_pooling2d 1,176, conv2d_1 3,136, max_pooling2d_1 784 (flatten is a view of it),
        // dense 120, dense_1 84, logits 10.
        Assert.Equal((784 + 4_704 + 1_176 + 3_136 + 784 + 120 + 84 + 10) * 4, costs.ActivationBytesPerSample);
        // Per sample: input 784 + logits and their gradient 2·10 + the six activations (10,004) and their gradients (10,004)
        // = 20,812, times 32 = 665,984. Scratch, the largest layer's: conv2d_1 pads 14x14x6 to 18x18x6 (2·32·1,944 = 124,416)
        // plus max(16·5·32 transposed, 4 chunks · 2,400) = 9,600: 134,016 (conv2d: 2·32·1,024 + 600 = 66,136; dense: 94,080).
        Assert.Equal(32, costs.WorkspaceBatchSize);
        Assert.Equal((665_984 + 134_016) * 4, costs.WorkspaceBytesPerBatch);
    }

    [Fact]
    public void LeNet5WithValidSecondConvolution_Costs_AreTheHandCount()
    {
        var plan = ModelPlanner.Plan("", "LeNet5Valid", Shape.Image(28, 28, 1),
        [
            Conv(1, Shape.Image(28, 28, 1), Shape.Image(28, 28, 6), 6, 5, padding: PaddingKind.Same, padTop: 2, padLeft: 2, activation: ActivationKind.Tanh),
            Pool(2, LayerKind.MaxPool2D, Shape.Image(28, 28, 6), Shape.Image(14, 14, 6), 2, 2),
            Conv(3, Shape.Image(14, 14, 6), Shape.Image(10, 10, 16), 16, 5, activation: ActivationKind.Tanh),
            Pool(4, LayerKind.MaxPool2D, Shape.Image(10, 10, 16), Shape.Image(5, 5, 16), 2, 2),
            Flatten(5, Shape.Image(5, 5, 16)),
            Dense(6, 400, 120, ActivationKind.Tanh),
            Dense(7, 120, 84, ActivationKind.Tanh),
            Dense(8, 84, 10, ActivationKind.Softmax),
        ]);
        var costs = plan.Costs;
        // 117,600 + 10·10·16 · 5·5·6 (240,000) + 400·120 (48,000) + 10,080 + 840.
        Assert.Equal(416_520, costs.ForwardMultiplyAdds);
        // + kernel gradients 416,520 + input gradients of all layers but the first, 416,520 - 117,600 = 298,920.
        Assert.Equal(416_520 + 416_520 + 298_920, costs.TrainingMultiplyAdds);
        // The tutorial's "about 60,000 parameters": 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706.
        Assert.Equal(61_706 * 4, costs.ParameterBytes);
        Assert.Equal(61_706 * 8, costs.OptimizerStateBytes);
        // 784 + 4,704 + 1,176 + 1,600 + 400 + 120 + 84 + 10 = 8,878 floats.
        Assert.Equal(8_878 * 4, costs.ActivationBytesPerSample);
        // Per sample 784 + 20 + 2·(4,704 + 1,176 + 1,600 + 400 + 120 + 84) = 16,972, times 32 = 543,104. The 'valid'
        // conv2d_1 needs no padded copy (9·1 + 5 = 14 rows): max(2,560, 4·2,400) = 9,600; dense 120·400 = 48,000; the
        // largest is conv2d's 69,240: 2·32·32·32·1 (padded copy) + max(6·5·16, 4·150) + its interleaved forward's tables,
        // (2 + 25 taps)·6·16 = 2,592, and 512 floats of slack.
        Assert.Equal((543_104 + 69_240) * 4, costs.WorkspaceBytesPerBatch);
    }

    [Fact]
    public void Mlp_Costs_AreTheHandCount()
    {
        var plan = ModelPlanner.Plan("", "Mlp", Shape.Flat(784),
        [
            Dense(1, 784, 128, ActivationKind.Relu),
            Dense(2, 128, 10, ActivationKind.Softmax),
        ]);
        var costs = plan.Costs;
        // 784·128 = 100,352 and 128·10 = 1,280.
        Assert.Equal(101_632, costs.ForwardMultiplyAdds);
        // + kernel gradients 101,632 + dense_1's input gradient 1,280 (nothing trains before dense).
        Assert.Equal(101_632 + 101_632 + 1_280, costs.TrainingMultiplyAdds);
        // 784·128 + 128 + 128·10 + 10 = 101,770 parameters.
        Assert.Equal(101_770 * 4, costs.ParameterBytes);
        Assert.Equal(101_770 * 8, costs.OptimizerStateBytes);
        Assert.Equal((784 + 128 + 10) * 4, costs.ActivationBytesPerSample);
        // Per sample 784 + 20 + 128 + 128 = 1,060, times 32 = 33,920; dense's transposed weights 128 · 784 = 100,352.
        Assert.Equal((33_920 + 100_352) * 4, costs.WorkspaceBytesPerBatch);
    }

    [Fact]
    public void PoolingFirst_NoInputGradientBeforeTheFirstTrainableLayer()
    {
        var plan = ModelPlanner.Plan("", "Net", Shape.Image(8, 8, 1),
        [
            Pool(1, LayerKind.AvgPool2D, Shape.Image(8, 8, 1), Shape.Image(4, 4, 1), 2, 2),
            Conv(2, Shape.Image(4, 4, 1), Shape.Image(2, 2, 3), 3, 3),
            Flatten(3, Shape.Image(2, 2, 3)),
            Dense(4, 12, 2, ActivationKind.Softmax),
        ]);
        var costs = plan.Costs;
        // conv2d 2·2·3 · 3·3·1 = 108, dense 12·2 = 24.
        Assert.Equal(132, costs.ForwardMultiplyAdds);
        // + kernel gradients 132; only dense computes an input gradient (24): conv2d has nothing trainable before it.
        Assert.Equal(132 + 132 + 24, costs.TrainingMultiplyAdds);
        Assert.Equal([0, 108, 0, 24 + 24], plan.Layers.Select(l => l.BackwardMultiplyAdds));
        // 3·3·1·3 + 3 + 12·2 + 2 = 56.
        Assert.Equal(56 * 4, costs.ParameterBytes);
        // 64 + 16 + 12 + 2.
        Assert.Equal(94 * 4, costs.ActivationBytesPerSample);
        // Per sample 64 + 4 + (16 + 12) + 12 (conv2d's gradient; the pooling runs no backward) = 108, times 32 = 3,456;
        // conv2d (one input channel, three filters, stride 1: interleaved) reads a copy, 2·32·16 = 1,024, + max(3·3·16 = 144,
        // 4 chunks · 27) = 144 + tables (2 + 9)·3·16 = 528 + slack 512: 2,208; dense: max(2·16, 24) = 32.
        Assert.Equal((3_456 + 2_208) * 4, costs.WorkspaceBytesPerBatch);
    }

    [Fact]
    public void StridedSameConvolution_Costs_AreTheHandCount()
    {
        // 7x7x2, 3x3 kernel, stride 2, 'same': ceil(7 / 2) = 4 per side, padding 3·2 + 3 - 7 = 2 (1 top, 1 bottom).
        var plan = ModelPlanner.Plan("", "Net", Shape.Image(7, 7, 2),
        [
            Conv(1, Shape.Image(7, 7, 2), Shape.Image(4, 4, 4), 4, 3, stride: 2, padding: PaddingKind.Same, padTop: 1, padLeft: 1, activation: ActivationKind.Relu),
            Flatten(2, Shape.Image(4, 4, 4)),
            Dense(3, 64, 3),
        ]);
        var costs = plan.Costs;
        // 4·4·4 · 3·3·2 = 1,152, and 64·3 = 192.
        Assert.Equal(1_344, costs.ForwardMultiplyAdds);
        Assert.Equal(1_344 + 1_344 + 192, costs.TrainingMultiplyAdds);
        // 3·3·2·4 + 4 + 64·3 + 3 = 271.
        Assert.Equal(271 * 4, costs.ParameterBytes);
        Assert.Equal(271 * 8, costs.OptimizerStateBytes);
        Assert.Equal((98 + 64 + 3) * 4, costs.ActivationBytesPerSample);
        // Per sample 98 + 6 + 64 + 64 = 232, times 32 = 7,424. conv2d reads a 9x9x2 padded copy: 2·32·162 = 10,368, plus
        // max(4·3·16 = 192, 4 chunks · 72 = 288) = 288; dense: max(3·64, 192) = 192.
        Assert.Equal((7_424 + 10_368 + 288) * 4, costs.WorkspaceBytesPerBatch);
    }

    [Fact]
    public void NormalizedDropoutGlobalPooling_Costs_AreTheHandCount()
    {
        // 6x6x2 -> Conv2D(4, 3, relu) 4x4x4 -> BatchNormalization -> Dropout(0.5) -> GlobalAveragePooling2D 4 -> Dense(3, softmax).
        var plan = ModelPlanner.Plan("", "Net", Shape.Image(6, 6, 2),
        [
            Conv(1, Shape.Image(6, 6, 2), Shape.Image(4, 4, 4), 4, 3, activation: ActivationKind.Relu),
            new(2, LayerKind.BatchNormalization, Shape.Image(4, 4, 4), Shape.Image(4, 4, 4), 0, 0, 0, PaddingKind.Valid, 0, 0, ActivationKind.None),
            new(3, LayerKind.Dropout, Shape.Image(4, 4, 4), Shape.Image(4, 4, 4), 0, 0, 0, PaddingKind.Valid, 0, 0, ActivationKind.None, Rate: 0.5),
            new(4, LayerKind.GlobalAveragePooling2D, Shape.Image(4, 4, 4), Shape.Flat(4), 0, 0, 0, PaddingKind.Valid, 0, 0, ActivationKind.None),
            Dense(5, 4, 3, ActivationKind.Softmax),
        ]);
        var costs = plan.Costs;
        // conv2d 4·4·4 · 3·3·2 = 1,152; batch_normalization one multiply-add per value, 64; dense 4·3 = 12.
        Assert.Equal([1_152, 64, 0, 0, 12], plan.Layers.Select(l => l.MultiplyAdds));
        Assert.Equal(1_228, costs.ForwardMultiplyAdds);
        // Gradients of the trainable layers (conv2d, gamma and beta, dense) 1,228; input gradients after conv2d: 64 + 12.
        Assert.Equal(1_228 + 1_228 + 76, costs.TrainingMultiplyAdds);
        // 3·3·2·4 + 4 = 76, gamma, beta, moving mean and variance 4·4 = 16, 4·3 + 3 = 15: 107, of which 99 train.
        Assert.Equal(107 * 4, costs.ParameterBytes);
        Assert.Equal(99 * 8, costs.OptimizerStateBytes);
        // Input 72, the outputs of conv2d, batch_normalization and dropout 64 each, the channel means 4, logits 3 (the
        // statistics' per-sample sums are not an output).
        Assert.Equal((72 + 3 * 64 + 4 + 3) * 4, costs.ActivationBytesPerSample);
        // Per sample: input 72 + logits and their gradient 6; outputs 64 + 64 + sums 2·4 + 64 + 4, their gradients
        // 64 + 64 + 64 + 4: 478, times 32 = 15,296. Pass area: 7 statistics rows of 4 channels = 28. Scratch: conv2d
        // (two input channels, no padding, no copy) max(4·3·16 = 192, 4 chunks · 72 = 288) = 288; dense max(3·16, 12) = 48.
        Assert.Equal((15_296 + 28 + 288) * 4, costs.WorkspaceBytesPerBatch);
    }
}

using ModelGen.Numerics.Tests.Models;

namespace ModelGen.Numerics.Tests;

/// <summary>
/// <c>ParameterCount</c> against published numbers and against counts worked out by hand below (Conv2D: k·k·in·filters
/// weights + filters biases; Dense: in·units + units; pools and Flatten: none).
/// </summary>
public class ParameterCountTests
{
    [Fact]
    public void LeNet5_Same_MatchesKerasPublishedCount()
    {
        // conv2d 5·5·1·6 + 6 = 156; conv2d_1 5·5·6·16 + 16 = 2,416; 28x28 -> pool 14x14 -> same conv 14x14 -> pool 7x7x16 = 784;
        // dense 784·120 + 120 = 94,200; dense_1 120·84 + 84 = 10,164; dense_2 84·10 + 10 = 850. Total 107,786.
        Assert.Equal(107_786, LeNet5.ParameterCount);
        Assert.Equal(107_786, LeNet5.ModelDescription.ParameterCount);
        Assert.Equal([156, 0, 2_416, 0, 0, 94_200, 10_164, 850], LeNet5.ModelDescription.Layers.Select(l => l.ParameterCount));
    }

    [Fact]
    public void LeNet5_ValidSecondConvolution_MatchesKerasPublishedCount()
    {
        // The second convolution 'valid': 14x14 -> 10x10x16 -> pool 5x5x16 = 400; dense 400·120 + 120 = 48,120.
        // 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706.
        Assert.Equal(61_706, LeNet5Valid.ParameterCount);
        Assert.Equal([156, 0, 2_416, 0, 0, 48_120, 10_164, 850], LeNet5Valid.ModelDescription.Layers.Select(l => l.ParameterCount));
    }

    [Fact]
    public void StridedConvolution_CountedByHand()
    {
        // 32x32x3, Conv2D(8, 3, stride 2, valid): (32 - 3) / 2 + 1 = 15 -> 15x15x8; weights 3·3·3·8 + 8 = 224.
        // Flatten 15·15·8 = 1,800; Dense(10): 1,800·10 + 10 = 18,010. Total 18,234.
        Assert.Equal(18_234, StridedConvNet.ParameterCount);
        Assert.Equal([15, 15, 8], StridedConvNet.ModelDescription.Layers[0].OutputShape);
    }

    [Fact]
    public void SamePaddingStride2_CountedByHand()
    {
        // 28x28x1, Conv2D(4, 5, stride 2, same): ceil(28 / 2) = 14 -> 14x14x4; 5·5·1·4 + 4 = 104.
        // Flatten 14·14·4 = 784; Dense(10): 7,840 + 10 = 7,850. Total 7,954.
        Assert.Equal(7_954, SameStride2Net.ParameterCount);
        Assert.Equal([14, 14, 4], SameStride2Net.ModelDescription.Layers[0].OutputShape);
    }

    [Fact]
    public void AveragePooling_CountedByHand()
    {
        // 16x16x3, Conv2D(6, 3, same): 3·3·3·6 + 6 = 168 -> 16x16x6; AvgPool2D(2) -> 8x8x6, no parameters.
        // Flatten 384; Dense(5): 384·5 + 5 = 1,925. Total 2,093.
        Assert.Equal(2_093, AvgPoolNet.ParameterCount);
        Assert.Equal([8, 8, 6], AvgPoolNet.ModelDescription.Layers[1].OutputShape);
    }

    [Fact]
    public void OddInputSizes_CountedByHand()
    {
        // 13x11x2, Conv2D(5, 4, valid): 10x8x5; 4·4·2·5 + 5 = 165. MaxPool2D(3): (10 - 3) / 3 + 1 = 3, (8 - 3) / 3 + 1 = 2
        // -> 3x2x5. Flatten 30; Dense(7): 30·7 + 7 = 217. Total 382.
        Assert.Equal(382, OddSizesNet.ParameterCount);
        Assert.Equal([3, 2, 5], OddSizesNet.ModelDescription.Layers[1].OutputShape);
    }

    [Fact]
    public void MultiLayerPerceptron_CountedByHand()
    {
        // 784 -> Dense(128): 784·128 + 128 = 100,480; Dense(64): 128·64 + 64 = 8,256; Dense(10): 64·10 + 10 = 650.
        // Total 109,386.
        Assert.Equal(109_386, Mlp784.ParameterCount);
    }

    [Fact]
    public void LargeKernelSameStride2_CountedByHand()
    {
        // 9x7x2, Conv2D(3, 8, stride 2, same): ceil(9/2) x ceil(7/2) = 5x4x3; 8·8·2·3 + 3 = 387.
        Assert.Equal(387, ConvLargeKernelSameStride2.ParameterCount);
        Assert.Equal([5, 4, 3], ConvLargeKernelSameStride2.ModelDescription.Layers[0].OutputShape);
    }

    [Fact]
    public void EveryModel_ConstantAndDescriptionAgree()
    {
        foreach (var c in Catalog.All)
        {
            Assert.Equal(c.Reference.ParameterCount, c.Description.ParameterCount);
            Assert.Equal(c.Description.ParameterCount, c.Create(1).Parameters.Length);
            Assert.Equal(c.Description.ParameterCount, c.Description.Layers.Sum(l => l.ParameterCount));
        }
    }
}

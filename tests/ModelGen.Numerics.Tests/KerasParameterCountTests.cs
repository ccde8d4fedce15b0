namespace ModelGen.Numerics.Tests
{
    /// <summary>
    /// <c>ParameterCount</c>, <c>TrainableParameterCount</c>, <c>NonTrainableParameterCount</c> and the summary's three
    /// lines against Keras's counts worked out by hand from Keras's rules: Conv2D k·k·in·filters + filters; Dense in·units
    /// + units; BatchNormalization 4 per channel (gamma, beta trainable; moving_mean, moving_variance not); Dropout,
    /// pooling, GlobalAveragePooling2D and Flatten none. "Total params" is Keras's sum of both kinds.
    /// </summary>
    public class KerasParameterCountTests
    {
        private static void AssertCounts(NetworkDescription d, string summary, int total, int trainable, int nonTrainable, int[] perLayer)
        {
            Assert.Equal(total, d.ParameterCount);
            Assert.Equal(trainable, d.TrainableParameterCount);
            Assert.Equal(nonTrainable, d.NonTrainableParameterCount);
            Assert.Equal(perLayer, d.Layers.Select(l => l.ParameterCount));
            var c = System.Globalization.CultureInfo.InvariantCulture;
            Assert.Contains(string.Create(c, $"\nTotal params: {total:N0}\n"), summary);
            Assert.Contains(string.Create(c, $"\nTrainable params: {trainable:N0}\n"), summary);
            Assert.Contains(string.Create(c, $"\nNon-trainable params: {nonTrainable:N0}\n"), summary);
        }

        [Fact]
        public void BatchNormalizationOn16Channels_64Total32Trainable32NonTrainable()
        {
            // 8x8x3, Conv2D(16, 3) valid: 3·3·3·16 + 16 = 448. BatchNormalization on 16 channels: 4·16 = 64, of which
            // gamma + beta = 32 trainable and moving mean + variance = 32 not. Total 512 = 480 trainable + 32.
            Assert.Equal(512, Models.Keras.BatchNorm16.ParameterCount);
            AssertCounts(Models.Keras.BatchNorm16.ModelDescription, Models.Keras.BatchNorm16.Summary, 512, 480, 32, [448, 64]);
            // Keras's wrapped name, then the parameters and (a column Keras lacks) the multiply-adds, 6·6·16 = 576.
            Assert.Contains(" batch_normalization (BatchNorm  (None, 6, 6, 16)         64" + new string(' ', 14) + "576\n", Models.Keras.BatchNorm16.Summary);
        }

        [Fact]
        public void FashionMnistSampleNetwork_CountedByHand()
        {
            // conv2d 3·3·1·32 + 32 = 320; batch_normalization 4·32 = 128; pool -> 14x14x32; conv2d_1 3·3·32·64 + 64 = 18,496;
            // batch_normalization_1 4·64 = 256; pool -> 7x7x64 = 3,136; dense 3,136·128 + 128 = 401,536; dense_1 128·10 + 10
            // = 1,290. Total 422,026; non-trainable (2·32 + 2·64) = 192; trainable 421,834.
            AssertCounts(Models.Keras.FashionCnn.ModelDescription, Models.Keras.FashionCnn.Summary, 422_026, 421_834, 192,
                [320, 128, 0, 18_496, 256, 0, 0, 0, 401_536, 0, 1_290]);
        }

        [Fact]
        public void MultiLayerPerceptronWithBatchNormalizationAndDropout_CountedByHand()
        {
            // 784 -> Dense(256): 784·256 + 256 = 200,960; BatchNormalization on 256 units: 1,024 (512 + 512); Dropout 0;
            // Dense(10): 256·10 + 10 = 2,570. Total 204,554; trainable 204,042; non-trainable 512.
            AssertCounts(Models.Keras.MlpBatchNorm.ModelDescription, Models.Keras.MlpBatchNorm.Summary, 204_554, 204_042, 512, [200_960, 1_024, 0, 2_570]);
        }

        [Fact]
        public void GlobalAveragePoolingNetwork_CountedByHand()
        {
            // 32x32x3, Conv2D(64, 3) valid -> 30x30x64: 3·3·3·64 + 64 = 1,792; BatchNormalization 4·64 = 256;
            // GlobalAveragePooling2D -> 64, none; Dense(10): 64·10 + 10 = 650. Total 2,698; trainable 2,570; non-trainable 128.
            AssertCounts(Models.Keras.GapNet.ModelDescription, Models.Keras.GapNet.Summary, 2_698, 2_570, 128, [1_792, 256, 0, 650]);
            Assert.Equal([64], Models.Keras.GapNet.ModelDescription.Layers[2].OutputShape);
        }

        [Fact]
        public void BatchNormalizationOfTheInput_CountedByHand()
        {
            // BatchNormalization of a 28x28x1 image: one channel, 4 parameters (2 + 2); Flatten 784; Dense(10): 7,850.
            // Total 7,854; trainable 7,852; non-trainable 2.
            AssertCounts(Models.Keras.InputBatchNorm.ModelDescription, Models.Keras.InputBatchNorm.Summary, 7_854, 7_852, 2, [4, 0, 7_850]);
        }

        [Fact]
        public void TwoBatchNormalizationLayers_CountedByHand()
        {
            // 16x16x1: Conv2D(8, 3, same) 3·3·1·8 + 8 = 80; BatchNormalization 32; MaxPool2D(2) -> 8x8x8; Conv2D(16, 3, same)
            // 3·3·8·16 + 16 = 1,168; BatchNormalization 64; GlobalAveragePooling2D -> 16; Dense(4) 16·4 + 4 = 68.
            // Total 1,412; non-trainable 16 + 32 = 48; trainable 1,364.
            AssertCounts(Models.Keras.TwoBatchNorms.ModelDescription, Models.Keras.TwoBatchNorms.Summary, 1_412, 1_364, 48, [80, 32, 0, 1_168, 64, 0, 68]);
        }

        [Fact]
        public void NetworkWithoutBatchNormalization_HasNoNonTrainableParameters()
        {
            // LeNet-5 ('same'): Keras's 107,786, all trainable; its files keep the layout they had.
            AssertCounts(Models.LeNet5.ModelDescription, Models.LeNet5.Summary, 107_786, 107_786, 0, [156, 0, 2_416, 0, 0, 94_200, 10_164, 850]);
            Assert.Equal(0, Models.LeNet5.NonTrainableParameterCount);
        }
    }
}

namespace ModelGen.Numerics.Tests.Models.Keras
{
    [Sequential(8, 8, 3)]
    [Conv2D(16, 3)]
    [BatchNormalization]
    public partial class BatchNorm16;

    /// <summary>The network of samples/FashionMnist.</summary>
    [Sequential(28, 28, 1)]
    [Conv2D(32, 3, Padding = Padding.Same, Activation = Activation.Relu)]
    [BatchNormalization]
    [MaxPool2D(2)]
    [Conv2D(64, 3, Padding = Padding.Same, Activation = Activation.Relu)]
    [BatchNormalization]
    [MaxPool2D(2)]
    [Dropout(0.25)]
    [Flatten]
    [Dense(128, Activation = Activation.Relu)]
    [Dropout(0.5)]
    [Dense(10, Activation = Activation.Softmax)]
    public partial class FashionCnn;

    [Sequential(784)]
    [Dense(256, Activation = Activation.Relu)]
    [BatchNormalization]
    [Dropout(0.5)]
    [Dense(10, Activation = Activation.Softmax)]
    public partial class MlpBatchNorm;

    [Sequential(32, 32, 3)]
    [Conv2D(64, 3, Activation = Activation.Relu)]
    [BatchNormalization]
    [GlobalAveragePooling2D]
    [Dense(10, Activation = Activation.Softmax)]
    public partial class GapNet;

    [Sequential(28, 28, 1)]
    [BatchNormalization]
    [Flatten]
    [Dense(10, Activation = Activation.Softmax)]
    public partial class InputBatchNorm;

    [Sequential(16, 16, 1)]
    [Conv2D(8, 3, Padding = Padding.Same, Activation = Activation.Relu)]
    [BatchNormalization]
    [MaxPool2D(2)]
    [Conv2D(16, 3, Padding = Padding.Same, Activation = Activation.Relu)]
    [BatchNormalization]
    [GlobalAveragePooling2D]
    [Dense(4, Activation = Activation.Softmax)]
    public partial class TwoBatchNorms;
}

using ModelGen.Numerics.Tests.Reference;

namespace ModelGen.Numerics.Tests.Models;

/// <summary>A generated test model together with the hand-written reference network it must agree with.</summary>
internal sealed record ModelCase(string Name, Func<int, INetwork> Create, ReferenceNetwork Reference, NetworkDescription Description)
{
    public override string ToString() => Name;
}

/// <summary>Every test model, by name (theories take the name so that test cases stay serializable).</summary>
internal static class Catalog
{
    public static readonly IReadOnlyList<ModelCase> All =
    [
        new(nameof(ConvValid), s => new ConvValid(s), ConvValid.Reference, ConvValid.ModelDescription),
        new(nameof(ConvSameTanh), s => new ConvSameTanh(s), ConvSameTanh.Reference, ConvSameTanh.ModelDescription),
        new(nameof(ConvSameStride2Relu), s => new ConvSameStride2Relu(s), ConvSameStride2Relu.Reference, ConvSameStride2Relu.ModelDescription),
        new(nameof(ConvStride3ValidSigmoid), s => new ConvStride3ValidSigmoid(s), ConvStride3ValidSigmoid.Reference, ConvStride3ValidSigmoid.ModelDescription),
        new(nameof(ConvLargeKernelValid), s => new ConvLargeKernelValid(s), ConvLargeKernelValid.Reference, ConvLargeKernelValid.ModelDescription),
        new(nameof(ConvLargeKernelSame), s => new ConvLargeKernelSame(s), ConvLargeKernelSame.Reference, ConvLargeKernelSame.ModelDescription),
        new(nameof(ConvLargeKernelSameStride2), s => new ConvLargeKernelSameStride2(s), ConvLargeKernelSameStride2.Reference, ConvLargeKernelSameStride2.ModelDescription),
        new(nameof(ConvSoftmax), s => new ConvSoftmax(s), ConvSoftmax.Reference, ConvSoftmax.ModelDescription),
        new(nameof(MaxPool2Only), s => new MaxPool2Only(s), MaxPool2Only.Reference, MaxPool2Only.ModelDescription),
        new(nameof(MaxPool3Stride1Only), s => new MaxPool3Stride1Only(s), MaxPool3Stride1Only.Reference, MaxPool3Stride1Only.ModelDescription),
        new(nameof(MaxPool5Only), s => new MaxPool5Only(s), MaxPool5Only.Reference, MaxPool5Only.ModelDescription),
        new(nameof(AvgPool2Only), s => new AvgPool2Only(s), AvgPool2Only.Reference, AvgPool2Only.ModelDescription),
        new(nameof(AvgPool3Stride2Only), s => new AvgPool3Stride2Only(s), AvgPool3Stride2Only.Reference, AvgPool3Stride2Only.ModelDescription),
        new(nameof(AvgPool5Only), s => new AvgPool5Only(s), AvgPool5Only.Reference, AvgPool5Only.ModelDescription),
        new(nameof(DenseFlat), s => new DenseFlat(s), DenseFlat.Reference, DenseFlat.ModelDescription),
        new(nameof(MlpAllActivations), s => new MlpAllActivations(s), MlpAllActivations.Reference, MlpAllActivations.ModelDescription),
        new(nameof(MlpLogits), s => new MlpLogits(s), MlpLogits.Reference, MlpLogits.ModelDescription),
        new(nameof(FlattenDense), s => new FlattenDense(s), FlattenDense.Reference, FlattenDense.ModelDescription),
        new(nameof(FlattenProbe), s => new FlattenProbe(s), FlattenProbe.Reference, FlattenProbe.ModelDescription),
        new(nameof(SmallConvNet), s => new SmallConvNet(s), SmallConvNet.Reference, SmallConvNet.ModelDescription),
        new(nameof(ConvStrideChain), s => new ConvStrideChain(s), ConvStrideChain.Reference, ConvStrideChain.ModelDescription),
        new(nameof(ConvLargeKernelChain), s => new ConvLargeKernelChain(s), ConvLargeKernelChain.Reference, ConvLargeKernelChain.ModelDescription),
        new(nameof(ConvLargeKernelStrided), s => new ConvLargeKernelStrided(s), ConvLargeKernelStrided.Reference, ConvLargeKernelStrided.ModelDescription),
        new(nameof(MaxPoolChain), s => new MaxPoolChain(s), MaxPoolChain.Reference, MaxPoolChain.ModelDescription),
        new(nameof(MaxPoolLarge), s => new MaxPoolLarge(s), MaxPoolLarge.Reference, MaxPoolLarge.ModelDescription),
        new(nameof(AvgPoolChain), s => new AvgPoolChain(s), AvgPoolChain.Reference, AvgPoolChain.ModelDescription),
        new(nameof(AvgPoolLarge), s => new AvgPoolLarge(s), AvgPoolLarge.Reference, AvgPoolLarge.ModelDescription),
        new(nameof(MaxPoolFirst), s => new MaxPoolFirst(s), MaxPoolFirst.Reference, MaxPoolFirst.ModelDescription),
        new(nameof(AvgPoolFirst), s => new AvgPoolFirst(s), AvgPoolFirst.Reference, AvgPoolFirst.ModelDescription),
        new(nameof(ConvImageLogits), s => new ConvImageLogits(s), ConvImageLogits.Reference, ConvImageLogits.ModelDescription),
        new(nameof(ConvSoftmaxChain), s => new ConvSoftmaxChain(s), ConvSoftmaxChain.Reference, ConvSoftmaxChain.ModelDescription),
        new(nameof(PoolLast), s => new PoolLast(s), PoolLast.Reference, PoolLast.ModelDescription),
        new(nameof(MaxPool2Stride1), s => new MaxPool2Stride1(s), MaxPool2Stride1.Reference, MaxPool2Stride1.ModelDescription),
        new(nameof(WideConvChain), s => new WideConvChain(s), WideConvChain.Reference, WideConvChain.ModelDescription),
        new(nameof(GappedStrides), s => new GappedStrides(s), GappedStrides.Reference, GappedStrides.ModelDescription),
        new(nameof(GappedAvgPool), s => new GappedAvgPool(s), GappedAvgPool.Reference, GappedAvgPool.ModelDescription),
        new(nameof(SinglePixel), s => new SinglePixel(s), SinglePixel.Reference, SinglePixel.ModelDescription),
        new(nameof(LeNet5), s => new LeNet5(s), LeNet5.Reference, LeNet5.ModelDescription),
        new(nameof(LeNet5Valid), s => new LeNet5Valid(s), LeNet5Valid.Reference, LeNet5Valid.ModelDescription),
        new(nameof(StridedConvNet), s => new StridedConvNet(s), StridedConvNet.Reference, StridedConvNet.ModelDescription),
        new(nameof(SameStride2Net), s => new SameStride2Net(s), SameStride2Net.Reference, SameStride2Net.ModelDescription),
        new(nameof(AvgPoolNet), s => new AvgPoolNet(s), AvgPoolNet.Reference, AvgPoolNet.ModelDescription),
        new(nameof(OddSizesNet), s => new OddSizesNet(s), OddSizesNet.Reference, OddSizesNet.ModelDescription),
        new(nameof(Mlp784), s => new Mlp784(s), Mlp784.Reference, Mlp784.ModelDescription),
        new(nameof(BatchNormConv), s => new BatchNormConv(s), BatchNormConv.Reference, BatchNormConv.ModelDescription),
        new(nameof(BatchNormFirst), s => new BatchNormFirst(s), BatchNormFirst.Reference, BatchNormFirst.ModelDescription),
        new(nameof(BatchNormDense), s => new BatchNormDense(s), BatchNormDense.Reference, BatchNormDense.ModelDescription),
        new(nameof(DropoutDense), s => new DropoutDense(s), DropoutDense.Reference, DropoutDense.ModelDescription),
        new(nameof(DropoutImage), s => new DropoutImage(s), DropoutImage.Reference, DropoutImage.ModelDescription),
        new(nameof(DropoutFirst), s => new DropoutFirst(s), DropoutFirst.Reference, DropoutFirst.ModelDescription),
        new(nameof(GlobalPoolNet), s => new GlobalPoolNet(s), GlobalPoolNet.Reference, GlobalPoolNet.ModelDescription),
        new(nameof(GlobalPoolLast), s => new GlobalPoolLast(s), GlobalPoolLast.Reference, GlobalPoolLast.ModelDescription),
        new(nameof(ModeNet), s => new ModeNet(s), ModeNet.Reference, ModeNet.ModelDescription),
        new(nameof(DropoutOnly), s => new DropoutOnly(s), DropoutOnly.Reference, DropoutOnly.ModelDescription),
    ];

    /// <summary>Networks whose every parameter is checked by finite differences; larger ones are checked on a sample of entries.</summary>
    public const int FullCheckLimit = 2000;

    public static ModelCase Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> AllNames() => new(All.Select(c => c.Name));

    /// <summary>Models with BatchNormalization or Dropout: they compute differently in training and inference.</summary>
    public static TheoryData<string> ModeDependentNames() =>
        new(All.Where(c => c.Reference.Layers.Any(l => l.Kind is RefKind.BatchNormalization or RefKind.Dropout)).Select(c => c.Name));

    /// <summary>Models with parameters and more than one class (with one class the loss is identically zero).</summary>
    public static TheoryData<string> TrainableNames() =>
        new(All.Where(c => c.Reference.ParameterCount > 0 && c.Reference.Output.Length > 1).Select(c => c.Name));
}

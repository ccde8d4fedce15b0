namespace ModelGen.Runtime.Tests;

public class DatasetTests
{
    [Fact]
    public void FromBytes_ScalesPixelsAndSlicesWithoutCopying()
    {
        byte[] pixels = [0, 255, 51, 102, 153, 204];
        byte[] labels = [3, 7, 9];
        var data = Dataset.FromBytes(pixels, labels, sampleLength: 2);

        Assert.Equal(3, data.Count);
        Assert.Equal(1f, data.Features(0)[1]);
        Assert.Equal(0.2f, data.Features(1)[0], 6);
        var tail = data.Slice(1, 2);
        Assert.Equal(2, tail.Count);
        Assert.Equal(9, tail.Label(1));
        Assert.Equal(0.8f, tail.Features(1)[1], 6);
    }

    [Fact]
    public void FromBytes_RejectsMismatchedLengths()
    {
        var error = Assert.Throws<ArgumentException>(() => Dataset.FromBytes(new byte[5], new byte[3], 2));
        Assert.Contains("do not make 3 images", error.Message);
    }
}

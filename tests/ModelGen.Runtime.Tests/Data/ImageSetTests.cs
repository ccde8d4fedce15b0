namespace ModelGen.Runtime.Tests.Data;

public class ImageSetTests
{
    private static (string Images, string Labels) WriteTrain(TempFolder tmp, byte[]? labels = null, int? labelCount = null)
    {
        var images = tmp.File("train-images-idx3-ubyte.gz");
        File.WriteAllBytes(images, TinyMnist.Gzip(TinyMnist.Files["train-images-idx3-ubyte"]));
        labels ??= TinyMnist.TrainLabels;
        var labelsPath = tmp.File("train-labels-idx1-ubyte");
        File.WriteAllBytes(labelsPath, TinyMnist.IdxBytes([labelCount ?? labels.Length], labels));
        return (images, labelsPath);
    }

    [Fact]
    public void LoadIdx_ReadsImagesAndLabels()
    {
        using var tmp = new TempFolder();
        var (images, labels) = WriteTrain(tmp);

        var set = ImageSet.LoadIdx(images, labels);

        Assert.Equal(TinyMnist.TrainCount, set.Count);
        Assert.Equal(3, set.Rows);
        Assert.Equal(2, set.Columns);
        Assert.Equal(6, set.ImageSize);
        Assert.Equal(TinyMnist.TrainPixels, set.Pixels);
        Assert.Equal(TinyMnist.TrainLabels, set.Labels);
        Assert.Equal(TinyMnist.TrainPixels[12..18], set.Image(2).ToArray());
        Assert.Equal(4, set.Label(2));
    }

    [Fact]
    public void LoadIdx_CountMismatch_IsFormatErrorNamingBothCounts()
    {
        using var tmp = new TempFolder();
        var (images, labels) = WriteTrain(tmp, labels: [5, 0, 4, 1, 9]);

        var error = Assert.Throws<IdxFormatException>(() => ImageSet.LoadIdx(images, labels));

        Assert.Contains("train-labels-idx1-ubyte: holds 5 labels but train-images-idx3-ubyte.gz holds 6 images", error.Message);
    }

    [Fact]
    public void LoadIdx_SwappedFiles_IsFormatError()
    {
        using var tmp = new TempFolder();
        var (images, labels) = WriteTrain(tmp);

        var error = Assert.Throws<IdxFormatException>(() => ImageSet.LoadIdx(labels, images));

        Assert.Contains("an images file has 3 dimensions (count x rows x columns), this one has 1", error.Message);
        Assert.Contains("swapped", error.Message);
    }

    [Fact]
    public void LoadIdx_LabelOutOfRange_NamesFileIndexAndValue()
    {
        using var tmp = new TempFolder();
        var (images, labels) = WriteTrain(tmp, labels: [5, 0, 10, 1, 200, 2]);

        var error = Assert.Throws<LabelOutOfRangeException>(() => ImageSet.LoadIdx(images, labels));

        Assert.Equal(2, error.Index);
        Assert.Equal(10, error.Label);
        Assert.Equal(10, error.ClassCount);
        Assert.Contains("train-labels-idx1-ubyte: label 10 at index 2 is out of range: labels must be 0..9 for 10 classes", error.Message);
        Assert.IsAssignableFrom<ModelGenException>(error);
    }

    [Fact]
    public void Constructor_ChecksLabelsAgainstClassCount()
    {
        var error = Assert.Throws<LabelOutOfRangeException>(() => new ImageSet(new byte[4], [0, 2, 3, 1], 1, 1, classCount: 3));
        Assert.Equal(2, error.Index);
        Assert.Equal(3, error.Label);
        Assert.Throws<ArgumentException>(() => new ImageSet(new byte[5], [0, 1], 1, 2));
    }

    [Fact]
    public void Slice_CopiesTheRange()
    {
        var set = new ImageSet(TinyMnist.TrainPixels, TinyMnist.TrainLabels, 3, 2);

        var slice = set.Slice(2, 3);

        Assert.Equal(3, slice.Count);
        Assert.Equal(TinyMnist.TrainPixels[12..30], slice.Pixels);
        Assert.Equal([4, 1, 9], slice.Labels);
        Assert.Equal(set.Image(4).ToArray(), slice.Image(2).ToArray());
        Assert.Equal(0, set.Slice(6, 0).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Slice(4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Slice(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Image(6));
    }

    [Fact]
    public void ToDataset_ScalesPixelsAndKeepsLabels()
    {
        var set = new ImageSet([0, 255, 51, 102, 153, 204], [3, 9], 1, 3);

        var scaled = set.ToDataset();
        var raw = set.ToDataset(scale: 1f);

        Assert.Equal(2, scaled.Count);
        Assert.Equal(3, scaled.SampleLength);
        Assert.Equal(0f, scaled.Features(0)[0]);
        Assert.Equal(1f, scaled.Features(0)[1]);
        Assert.Equal(0.2f, scaled.Features(0)[2], 6);
        Assert.Equal(0.8f, scaled.Features(1)[2], 6);
        Assert.Equal([3, 9], scaled.AllLabels.ToArray());
        Assert.Equal([102f, 153f, 204f], raw.Features(1).ToArray());
    }
}

public class MnistDataTests
{
    [Fact]
    public void LoadDirectory_ReadsRawAndGzipFiles_AndSplitsTestInHalves()
    {
        using var tmp = new TempFolder();
        TinyMnist.WriteAll(tmp.Path, gzip: true);
        // Raw takes precedence over .gz; make the raw test labels differ to see it chosen.
        File.WriteAllBytes(tmp.File("t10k-labels-idx1-ubyte"), TinyMnist.IdxBytes([4], [3, 3, 3, 3]));

        var data = MnistData.LoadDirectory(tmp.Path);

        Assert.Equal(TinyMnist.TrainCount, data.Train.Count);
        Assert.Equal(TinyMnist.TrainLabels, data.Train.Labels);
        Assert.Equal(TinyMnist.TestPixels, data.Test.Pixels);
        Assert.Equal([3, 3, 3, 3], data.Test.Labels);
        Assert.Equal(2, data.Validation.Count);
        Assert.Equal(2, data.FinalEvaluation.Count);
        Assert.Equal(TinyMnist.TestPixels[..12], data.Validation.Pixels);
        Assert.Equal(TinyMnist.TestPixels[12..], data.FinalEvaluation.Pixels);
    }

    [Fact]
    public void Constructor_SplitsOddTestSetAtHalf()
    {
        var train = new ImageSet(new byte[2], [0, 1], 1, 1);
        var test = new ImageSet([10, 11, 12, 13, 14], [0, 1, 2, 3, 4], 1, 1);

        var data = new MnistData(train, test);

        Assert.Equal([0, 1], data.Validation.Labels);
        Assert.Equal([2, 3, 4], data.FinalEvaluation.Labels);
    }

    [Fact]
    public void LoadDirectory_MissingFiles_AreListed()
    {
        using var tmp = new TempFolder();
        TinyMnist.WriteAll(tmp.Path, gzip: false);
        File.Delete(tmp.File("t10k-images-idx3-ubyte"));
        File.Delete(tmp.File("train-labels-idx1-ubyte"));

        var error = Assert.Throws<DataUnavailableException>(() => MnistData.LoadDirectory(tmp.Path));

        Assert.Contains($"{tmp.Path} lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte (each raw or with .gz)", error.Message);
    }
}

using System.Globalization;

namespace ModelGen;

/// <summary>Says why a training step's update was refused, naming the gradient value at fault by its tensor.</summary>
internal static class UpdateRefusal
{
    /// <summary>
    /// The reason for <see cref="TrainingDivergedException"/>: the first non-finite value of the mean gradient, else its
    /// largest value (a finite gradient whose update still overflows is a huge one).
    /// </summary>
    public static string Describe(ReadOnlySpan<float> meanGradient, NetworkDescription description)
    {
        var bad = Trainer.FirstNonFinite(meanGradient);
        if (bad >= 0)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"the mean gradient of {NetworkDescription.NameOf(description, bad)} is {meanGradient[bad]}, so the update would not be finite");
        }

        var largest = 0;
        for (var i = 1; i < meanGradient.Length; i++)
        {
            if (Math.Abs(meanGradient[i]) > Math.Abs(meanGradient[largest])) largest = i;
        }

        var at = meanGradient.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $" (the largest gradient, {meanGradient[largest]:G4}, is that of {NetworkDescription.NameOf(description, largest)})");
        return $"the update would make weights or optimizer values overflow to infinity or NaN{at}";
    }
}

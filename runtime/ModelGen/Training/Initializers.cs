namespace ModelGen;

/// <summary>Keras's default weight initialisers.</summary>
public static class Initializers
{
    /// <summary>
    /// Glorot (Xavier) uniform: U(-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)). For a Conv2D kernel
    /// [kh, kw, in, out], fanIn = kh·kw·in and fanOut = kh·kw·out; for Dense [in, out], fanIn = in and fanOut = out.
    /// </summary>
    public static void GlorotUniform(Span<float> kernel, int fanIn, int fanOut, SeededRandom random)
    {
        var limit = MathF.Sqrt(6f / (fanIn + fanOut));
        for (var i = 0; i < kernel.Length; i++) kernel[i] = (2f * random.NextFloat() - 1f) * limit;
    }
}

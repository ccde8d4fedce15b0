namespace ModelGen;

/// <summary>
/// A small, fast random generator (xoshiro128**, seeded through SplitMix64) whose sequence is fixed for a given seed on
/// every machine and .NET version: initialisation and shuffling are reproducible from the seed alone.
/// </summary>
public sealed class SeededRandom
{
    private uint _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator whose sequence is determined by <paramref name="seed"/>.</summary>
    public SeededRandom(long seed)
    {
        var x = (ulong)seed;
        ulong Next()
        {
            x += 0x9E3779B97F4A7C15UL;
            var z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        var a = Next();
        var b = Next();
        _s0 = (uint)a;
        _s1 = (uint)(a >> 32);
        _s2 = (uint)b;
        _s3 = (uint)(b >> 32) | 1; // never all zero
    }

    /// <summary>A fresh seed for callers that did not give one.</summary>
    public static int NewSeed() => Random.Shared.Next();

    /// <summary>The next 32 random bits.</summary>
    public uint NextUInt()
    {
        var result = BitRotate(_s1 * 5, 7) * 9;
        var t = _s1 << 9;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitRotate(_s3, 11);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt() >> 8) * (1f / (1 << 24));

    /// <summary>Uniform integer in [0, <paramref name="bound"/>), without modulo bias.</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound));
        var product = (ulong)NextUInt() * (uint)bound;
        var low = (uint)product;
        if (low < (uint)bound)
        {
            var threshold = (uint)-bound % (uint)bound;
            while (low < threshold)
            {
                product = (ulong)NextUInt() * (uint)bound;
                low = (uint)product;
            }
        }

        return (int)(product >> 32);
    }

    /// <summary>Fisher-Yates shuffle of <paramref name="values"/>.</summary>
    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private static uint BitRotate(uint value, int count) => (value << count) | (value >> (32 - count));
}

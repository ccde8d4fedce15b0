namespace ModelGen.Numerics.Tests.Reference;

/// <summary>
/// The dropout mask as docs/architecture.md specifies it, written out here independently of the runtime (in BigInteger-free
/// plain 64-bit arithmetic, one value at a time): a unit is kept when the top 24 bits of its hash are at least
/// round(rate · 2^24). The tests compare the generated kernels' masks with this one.
/// </summary>
internal static class ReferenceDropout
{
    /// <summary>SplitMix64's finalizer (Stafford's mix 13).</summary>
    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>The key of one training step: Mix over the seed, then the epoch, then the step.</summary>
    public static ulong PassKey(int seed, int epoch, int step) => Mix(Mix(Mix((uint)seed) ^ (uint)epoch) ^ (uint)step);

    /// <summary>Whether unit <paramref name="unit"/> of sample <paramref name="sample"/> (its place in the batch) survives layer <paramref name="layer"/> (its 1-based position).</summary>
    public static bool Keeps(ulong passKey, int layer, int sample, int unit, double rate)
    {
        unchecked
        {
            var sampleKey = (uint)(Mix(passKey ^ Mix(((ulong)(uint)layer << 32) | (uint)sample)) >> 32);
            // lowbias32 of the unit's counter
            var h = sampleKey + (uint)unit * 0x9E3779B9u;
            h ^= h >> 16;
            h *= 0x7FEB352Du;
            h ^= h >> 15;
            h *= 0x846CA68Bu;
            h ^= h >> 16;
            return (h >> 8) >= (uint)Math.Round(rate * (1 << 24));
        }
    }
}

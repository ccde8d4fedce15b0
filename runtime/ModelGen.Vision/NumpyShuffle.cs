namespace ModelGen.Vision;

/// <summary>
/// numpy's legacy <c>RandomState(seed).shuffle</c>, which Keras's <c>image_dataset_from_directory</c> uses to order the
/// files before the validation split: MT19937 seeded with <c>init_genrand(seed)</c>, then Fisher-Yates from the end, each
/// index drawn by masked rejection (<c>random_interval</c>). With it the same seed puts the same files in the training
/// and validation parts as Keras does.
/// </summary>
internal sealed class NumpyShuffle
{
    private const int N = 624, M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index;

    public NumpyShuffle(uint seed)
    {
        _state[0] = seed;
        for (var i = 1; i < N; i++) _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    /// <summary>The next 32-bit output of MT19937.</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            for (var k = 0; k < N; k++)
            {
                var y = (_state[k] & 0x80000000u) | (_state[(k + 1) % N] & 0x7fffffffu);
                _state[k] = _state[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }

            _index = 0;
        }

        var z = _state[_index++];
        z ^= z >> 11;
        z ^= (z << 7) & 0x9d2c5680u;
        z ^= (z << 15) & 0xefc60000u;
        return z ^ (z >> 18);
    }

    /// <summary>numpy's <c>random_interval(max)</c> for max &lt; 2^32: uniform in [0, max].</summary>
    public uint Interval(uint max)
    {
        if (max == 0) return 0;
        var mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max)
        {
        }

        return value;
    }

    /// <summary>Shuffles <paramref name="items"/> in place as <c>RandomState.shuffle</c> does.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = (int)Interval((uint)i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

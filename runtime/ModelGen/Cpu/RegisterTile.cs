using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Cpu;

/// <summary>
/// A compile-time integer: a struct whose size is the number, read with <see cref="Unsafe.SizeOf{T}"/>. The JIT turns
/// that into a constant while it imports the code, so a test on it removes the code it guards before anything in it is
/// compiled or inlined (a static abstract property would only fold after inlining, too late to keep large bodies small).
/// </summary>
internal interface IConstant;

#pragma warning disable CS1591 // the constants name themselves
[StructLayout(LayoutKind.Sequential, Size = 1)] internal readonly struct N1 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 2)] internal readonly struct N2 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 3)] internal readonly struct N3 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 4)] internal readonly struct N4 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 5)] internal readonly struct N5 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 6)] internal readonly struct N6 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 7)] internal readonly struct N7 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 8)] internal readonly struct N8 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 9)] internal readonly struct N9 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 10)] internal readonly struct N10 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 11)] internal readonly struct N11 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 12)] internal readonly struct N12 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 13)] internal readonly struct N13 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 14)] internal readonly struct N14 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 15)] internal readonly struct N15 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 16)] internal readonly struct N16 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 17)] internal readonly struct N17 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 18)] internal readonly struct N18 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 19)] internal readonly struct N19 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 20)] internal readonly struct N20 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 21)] internal readonly struct N21 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 22)] internal readonly struct N22 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 23)] internal readonly struct N23 : IConstant;
[StructLayout(LayoutKind.Sequential, Size = 24)] internal readonly struct N24 : IConstant;
#pragma warning restore CS1591

/// <summary>Code run with a tile shape chosen at run time; <see cref="RegisterTile.Dispatch{TOps, TVec, TBody}"/> calls it with constant types.</summary>
internal interface ITileBody
{
    void Run<TOps, TVec, TRows, TBlocks>()
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TRows : struct, IConstant where TBlocks : struct, IConstant;
}

/// <summary>
/// The k-steps of a register tile: where the tile's broadcast operands and weight vectors are at each step. Row r of the
/// tile reads its broadcast operand at <c>a + step + (r % RowsPerLine) · RowStride + (r / RowsPerLine) · LineStride</c>:
/// all three are JIT constants, so the operand addresses fold into the instructions.
/// </summary>
internal interface ITileSteps
{
    /// <summary>Tile rows per line (consecutive rows are <see cref="RowStride"/> floats apart).</summary>
    static abstract int RowsPerLine { get; }

    static abstract int RowStride { get; }

    /// <summary>Floats between the first rows of consecutive lines.</summary>
    static abstract int LineStride { get; }

    /// <summary>Advances to the next step: its operand offset (from a) and weight offset (from w); false after the last.</summary>
    bool Next(out nint operand, out nint weights);
}

/// <summary>What a register tile starts from and what happens to each finished accumulator.</summary>
internal interface ITileSink<TVec> where TVec : unmanaged
{
    /// <summary>The starting value of the accumulators of column block <paramref name="block"/> (0 ≤ block &lt; tile blocks).</summary>
    TVec Initial(int block);

    /// <summary>Takes the finished accumulator of tile row <paramref name="row"/>, column block <paramref name="block"/>.</summary>
    void Finish(int row, int block, TVec value);
}

/// <summary>
/// The one multiply-add tile every convolution and dense kernel runs on: <c>Rows × Blocks</c> accumulator vectors (rows
/// broadcast one float each, blocks are consecutive vectors of weights), summed over the steps of an
/// <see cref="ITileSteps"/> with one fused multiply-add chain per output element, always in step order. The row and block
/// counts are type constants, so every unused accumulator is removed when the JIT specialises the code: the same source
/// serves a 24 × 1 tile and a 1 × 4 tile. Because each output element is one chain in step order, the tile shape never
/// changes a result: a sample gives the same numbers alone or in a batch, in any position.
/// </summary>
internal static unsafe class RegisterTile
{
    /// <summary>Most column blocks in one tile.</summary>
    public const int MaxBlocks = 4;

    /// <summary>
    /// Most rows of a tile with <paramref name="blocks"/> column blocks (1 to 4): 24, 12, 6, 6 accumulators' worth with
    /// AVX-512's 32 registers, half that with the 16 registers of AVX2 and SSE, leaving room for weights and addresses.
    /// </summary>
    public static int MaxRows(int lanes, int blocks)
    {
        var rows = blocks == 1 ? 24 : blocks == 2 ? 12 : 6;
        return lanes == 16 ? rows : rows / 2;
    }

    /// <summary>Column blocks per tile for a row of <paramref name="blocks"/> vectors: 4, 2 or 1 (the last group may hold fewer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BlocksPerTile(int blocks) => blocks >= 4 ? 4 : blocks >= 2 ? 2 : 1;

    /// <summary>
    /// Calls <paramref name="body"/> with the tile shape as type constants (1 ≤ rows ≤ 24, 1 ≤ blocks ≤ 4). Each shape is
    /// compiled the first time it is used, so only the shapes a network really needs cost JIT time.
    /// </summary>
    public static void Dispatch<TOps, TVec, TBody>(int rows, int blocks, ref TBody body)
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TBody : struct, ITileBody
    {
        switch (blocks)
        {
            case 1: WithRows<TOps, TVec, N1, TBody>(rows, ref body); break;
            case 2: WithRows<TOps, TVec, N2, TBody>(rows, ref body); break;
            case 3: WithRows<TOps, TVec, N3, TBody>(rows, ref body); break;
            case 4: WithRows<TOps, TVec, N4, TBody>(rows, ref body); break;
            default: throw new ArgumentOutOfRangeException(nameof(blocks), blocks, "A register tile has 1 to 4 column blocks.");
        }
    }

    private static void WithRows<TOps, TVec, TBlocks, TBody>(int rows, ref TBody body)
        where TOps : IVectorOps<TVec> where TVec : unmanaged where TBlocks : struct, IConstant where TBody : struct, ITileBody
    {
        switch (rows)
        {
            case 1: body.Run<TOps, TVec, N1, TBlocks>(); break;
            case 2: body.Run<TOps, TVec, N2, TBlocks>(); break;
            case 3: body.Run<TOps, TVec, N3, TBlocks>(); break;
            case 4: body.Run<TOps, TVec, N4, TBlocks>(); break;
            case 5: body.Run<TOps, TVec, N5, TBlocks>(); break;
            case 6: body.Run<TOps, TVec, N6, TBlocks>(); break;
            case 7: body.Run<TOps, TVec, N7, TBlocks>(); break;
            case 8: body.Run<TOps, TVec, N8, TBlocks>(); break;
            case 9: body.Run<TOps, TVec, N9, TBlocks>(); break;
            case 10: body.Run<TOps, TVec, N10, TBlocks>(); break;
            case 11: body.Run<TOps, TVec, N11, TBlocks>(); break;
            case 12: body.Run<TOps, TVec, N12, TBlocks>(); break;
            case 13: body.Run<TOps, TVec, N13, TBlocks>(); break;
            case 14: body.Run<TOps, TVec, N14, TBlocks>(); break;
            case 15: body.Run<TOps, TVec, N15, TBlocks>(); break;
            case 16: body.Run<TOps, TVec, N16, TBlocks>(); break;
            case 17: body.Run<TOps, TVec, N17, TBlocks>(); break;
            case 18: body.Run<TOps, TVec, N18, TBlocks>(); break;
            case 19: body.Run<TOps, TVec, N19, TBlocks>(); break;
            case 20: body.Run<TOps, TVec, N20, TBlocks>(); break;
            case 21: body.Run<TOps, TVec, N21, TBlocks>(); break;
            case 22: body.Run<TOps, TVec, N22, TBlocks>(); break;
            case 23: body.Run<TOps, TVec, N23, TBlocks>(); break;
            case 24: body.Run<TOps, TVec, N24, TBlocks>(); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "A register tile has 1 to 24 rows.");
        }
    }

    /// <summary>Splits <paramref name="length"/> into equal tiles of at most <paramref name="most"/>: (tiles, size of each but the last, size of the last).</summary>
    public static (int Tiles, int Size, int Last) Split(int length, int most)
    {
        var tiles = (length + most - 1) / most;
        var size = (length + tiles - 1) / tiles;
        return (tiles, size, length - (tiles - 1) * size);
    }

    /// <summary>
    /// Runs one tile: acc[r, b] = sink.Initial(b) + Σ over steps of a[operand + offset(r)] · w[weights + b · Lanes], then
    /// sink.Finish(r, b, acc[r, b]). The last block loads only its first <paramref name="lastBlockLanes"/> weights.
    /// </summary>
    /// <remarks>
    /// Accumulators exist for rows 0–23 of block 0, rows 0–11 of block 1 and rows 0–5 of blocks 2 and 3: a tile is at most
    /// 24 × 1, 12 × 2, 6 × 3 or 6 × 4 (and half that with 256- or 128-bit vectors, which have half the registers).
    /// </remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec, TRows, TBlocks, TSteps, TSink>(float* a, float* w, ref TSteps stepsIn, ref TSink sinkIn, int lastBlockLanes)
        where TOps : IVectorOps<TVec>
        where TVec : unmanaged
        where TRows : struct, IConstant
        where TBlocks : struct, IConstant
        where TSteps : struct, ITileSteps
        where TSink : struct, ITileSink<TVec>
    {
        // Local copies: the JIT keeps a struct local's fields in registers, while fields reached through a ref stay in
        // memory, and the loop counters of the steps would then make a store-and-reload chain of every iteration.
        var steps = stepsIn;
        var sink = sinkIn;
        var lastMask = TOps.FirstLanes(lastBlockLanes);
        var lastPartial = lastBlockLanes < TOps.Lanes;

        TVec i0 = sink.Initial(0);
        TVec i1 = Unsafe.SizeOf<TBlocks>() > 1 ? sink.Initial(1) : i0;
        TVec i2 = Unsafe.SizeOf<TBlocks>() > 2 ? sink.Initial(2) : i0;
        TVec i3 = Unsafe.SizeOf<TBlocks>() > 3 ? sink.Initial(3) : i0;
        TVec a00 = i0, a01 = i0, a02 = i0, a03 = i0, a04 = i0, a05 = i0, a06 = i0, a07 = i0, a08 = i0, a09 = i0, a10 = i0, a11 = i0;
        TVec a12 = i0, a13 = i0, a14 = i0, a15 = i0, a16 = i0, a17 = i0, a18 = i0, a19 = i0, a20 = i0, a21 = i0, a22 = i0, a23 = i0;
        TVec b00 = i1, b01 = i1, b02 = i1, b03 = i1, b04 = i1, b05 = i1, b06 = i1, b07 = i1, b08 = i1, b09 = i1, b10 = i1, b11 = i1;
        TVec c00 = i2, c01 = i2, c02 = i2, c03 = i2, c04 = i2, c05 = i2;
        TVec d00 = i3, d01 = i3, d02 = i3, d03 = i3, d04 = i3, d05 = i3;

        while (steps.Next(out var operand, out var weights))
        {
            var x = a + operand;
            var wp = w + weights;
            TVec w0, w1 = default, w2 = default, w3 = default;
            if (Unsafe.SizeOf<TBlocks>() == 1) w0 = lastPartial ? TOps.LoadMasked(wp, lastMask) : TOps.Load(wp);
            else w0 = TOps.Load(wp);
            if (Unsafe.SizeOf<TBlocks>() == 2) w1 = lastPartial ? TOps.LoadMasked(wp + TOps.Lanes, lastMask) : TOps.Load(wp + TOps.Lanes);
            else if (Unsafe.SizeOf<TBlocks>() > 2) w1 = TOps.Load(wp + TOps.Lanes);
            if (Unsafe.SizeOf<TBlocks>() == 3) w2 = lastPartial ? TOps.LoadMasked(wp + 2 * TOps.Lanes, lastMask) : TOps.Load(wp + 2 * TOps.Lanes);
            else if (Unsafe.SizeOf<TBlocks>() > 3) w2 = TOps.Load(wp + 2 * TOps.Lanes);
            if (Unsafe.SizeOf<TBlocks>() == 4) w3 = lastPartial ? TOps.LoadMasked(wp + 3 * TOps.Lanes, lastMask) : TOps.Load(wp + 3 * TOps.Lanes);

            // One row: its broadcast operand times each block's weights. Unused Unsafe.SizeOf<TRows>() and Unsafe.SizeOf<TBlocks>() are dead code for the JIT.
            if (Unsafe.SizeOf<TRows>() > 0) { var v = TOps.Broadcast(x[Offset<TSteps>(0)]); a00 = TOps.MultiplyAdd(v, w0, a00); if (Unsafe.SizeOf<TBlocks>() > 1) b00 = TOps.MultiplyAdd(v, w1, b00); if (Unsafe.SizeOf<TBlocks>() > 2) c00 = TOps.MultiplyAdd(v, w2, c00); if (Unsafe.SizeOf<TBlocks>() > 3) d00 = TOps.MultiplyAdd(v, w3, d00); }
            if (Unsafe.SizeOf<TRows>() > 1) { var v = TOps.Broadcast(x[Offset<TSteps>(1)]); a01 = TOps.MultiplyAdd(v, w0, a01); if (Unsafe.SizeOf<TBlocks>() > 1) b01 = TOps.MultiplyAdd(v, w1, b01); if (Unsafe.SizeOf<TBlocks>() > 2) c01 = TOps.MultiplyAdd(v, w2, c01); if (Unsafe.SizeOf<TBlocks>() > 3) d01 = TOps.MultiplyAdd(v, w3, d01); }
            if (Unsafe.SizeOf<TRows>() > 2) { var v = TOps.Broadcast(x[Offset<TSteps>(2)]); a02 = TOps.MultiplyAdd(v, w0, a02); if (Unsafe.SizeOf<TBlocks>() > 1) b02 = TOps.MultiplyAdd(v, w1, b02); if (Unsafe.SizeOf<TBlocks>() > 2) c02 = TOps.MultiplyAdd(v, w2, c02); if (Unsafe.SizeOf<TBlocks>() > 3) d02 = TOps.MultiplyAdd(v, w3, d02); }
            if (Unsafe.SizeOf<TRows>() > 3) { var v = TOps.Broadcast(x[Offset<TSteps>(3)]); a03 = TOps.MultiplyAdd(v, w0, a03); if (Unsafe.SizeOf<TBlocks>() > 1) b03 = TOps.MultiplyAdd(v, w1, b03); if (Unsafe.SizeOf<TBlocks>() > 2) c03 = TOps.MultiplyAdd(v, w2, c03); if (Unsafe.SizeOf<TBlocks>() > 3) d03 = TOps.MultiplyAdd(v, w3, d03); }
            if (Unsafe.SizeOf<TRows>() > 4) { var v = TOps.Broadcast(x[Offset<TSteps>(4)]); a04 = TOps.MultiplyAdd(v, w0, a04); if (Unsafe.SizeOf<TBlocks>() > 1) b04 = TOps.MultiplyAdd(v, w1, b04); if (Unsafe.SizeOf<TBlocks>() > 2) c04 = TOps.MultiplyAdd(v, w2, c04); if (Unsafe.SizeOf<TBlocks>() > 3) d04 = TOps.MultiplyAdd(v, w3, d04); }
            if (Unsafe.SizeOf<TRows>() > 5) { var v = TOps.Broadcast(x[Offset<TSteps>(5)]); a05 = TOps.MultiplyAdd(v, w0, a05); if (Unsafe.SizeOf<TBlocks>() > 1) b05 = TOps.MultiplyAdd(v, w1, b05); if (Unsafe.SizeOf<TBlocks>() > 2) c05 = TOps.MultiplyAdd(v, w2, c05); if (Unsafe.SizeOf<TBlocks>() > 3) d05 = TOps.MultiplyAdd(v, w3, d05); }
            if (Unsafe.SizeOf<TRows>() > 6) { var v = TOps.Broadcast(x[Offset<TSteps>(6)]); a06 = TOps.MultiplyAdd(v, w0, a06); if (Unsafe.SizeOf<TBlocks>() > 1) b06 = TOps.MultiplyAdd(v, w1, b06); }
            if (Unsafe.SizeOf<TRows>() > 7) { var v = TOps.Broadcast(x[Offset<TSteps>(7)]); a07 = TOps.MultiplyAdd(v, w0, a07); if (Unsafe.SizeOf<TBlocks>() > 1) b07 = TOps.MultiplyAdd(v, w1, b07); }
            if (Unsafe.SizeOf<TRows>() > 8) { var v = TOps.Broadcast(x[Offset<TSteps>(8)]); a08 = TOps.MultiplyAdd(v, w0, a08); if (Unsafe.SizeOf<TBlocks>() > 1) b08 = TOps.MultiplyAdd(v, w1, b08); }
            if (Unsafe.SizeOf<TRows>() > 9) { var v = TOps.Broadcast(x[Offset<TSteps>(9)]); a09 = TOps.MultiplyAdd(v, w0, a09); if (Unsafe.SizeOf<TBlocks>() > 1) b09 = TOps.MultiplyAdd(v, w1, b09); }
            if (Unsafe.SizeOf<TRows>() > 10) { var v = TOps.Broadcast(x[Offset<TSteps>(10)]); a10 = TOps.MultiplyAdd(v, w0, a10); if (Unsafe.SizeOf<TBlocks>() > 1) b10 = TOps.MultiplyAdd(v, w1, b10); }
            if (Unsafe.SizeOf<TRows>() > 11) { var v = TOps.Broadcast(x[Offset<TSteps>(11)]); a11 = TOps.MultiplyAdd(v, w0, a11); if (Unsafe.SizeOf<TBlocks>() > 1) b11 = TOps.MultiplyAdd(v, w1, b11); }
            if (Unsafe.SizeOf<TRows>() > 12) a12 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(12)]), w0, a12);
            if (Unsafe.SizeOf<TRows>() > 13) a13 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(13)]), w0, a13);
            if (Unsafe.SizeOf<TRows>() > 14) a14 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(14)]), w0, a14);
            if (Unsafe.SizeOf<TRows>() > 15) a15 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(15)]), w0, a15);
            if (Unsafe.SizeOf<TRows>() > 16) a16 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(16)]), w0, a16);
            if (Unsafe.SizeOf<TRows>() > 17) a17 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(17)]), w0, a17);
            if (Unsafe.SizeOf<TRows>() > 18) a18 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(18)]), w0, a18);
            if (Unsafe.SizeOf<TRows>() > 19) a19 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(19)]), w0, a19);
            if (Unsafe.SizeOf<TRows>() > 20) a20 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(20)]), w0, a20);
            if (Unsafe.SizeOf<TRows>() > 21) a21 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(21)]), w0, a21);
            if (Unsafe.SizeOf<TRows>() > 22) a22 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(22)]), w0, a22);
            if (Unsafe.SizeOf<TRows>() > 23) a23 = TOps.MultiplyAdd(TOps.Broadcast(x[Offset<TSteps>(23)]), w0, a23);
        }

        if (Unsafe.SizeOf<TRows>() > 0) { sink.Finish(0, 0, a00); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(0, 1, b00); if (Unsafe.SizeOf<TBlocks>() > 2) sink.Finish(0, 2, c00); if (Unsafe.SizeOf<TBlocks>() > 3) sink.Finish(0, 3, d00); }
        if (Unsafe.SizeOf<TRows>() > 1) { sink.Finish(1, 0, a01); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(1, 1, b01); if (Unsafe.SizeOf<TBlocks>() > 2) sink.Finish(1, 2, c01); if (Unsafe.SizeOf<TBlocks>() > 3) sink.Finish(1, 3, d01); }
        if (Unsafe.SizeOf<TRows>() > 2) { sink.Finish(2, 0, a02); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(2, 1, b02); if (Unsafe.SizeOf<TBlocks>() > 2) sink.Finish(2, 2, c02); if (Unsafe.SizeOf<TBlocks>() > 3) sink.Finish(2, 3, d02); }
        if (Unsafe.SizeOf<TRows>() > 3) { sink.Finish(3, 0, a03); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(3, 1, b03); if (Unsafe.SizeOf<TBlocks>() > 2) sink.Finish(3, 2, c03); if (Unsafe.SizeOf<TBlocks>() > 3) sink.Finish(3, 3, d03); }
        if (Unsafe.SizeOf<TRows>() > 4) { sink.Finish(4, 0, a04); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(4, 1, b04); if (Unsafe.SizeOf<TBlocks>() > 2) sink.Finish(4, 2, c04); if (Unsafe.SizeOf<TBlocks>() > 3) sink.Finish(4, 3, d04); }
        if (Unsafe.SizeOf<TRows>() > 5) { sink.Finish(5, 0, a05); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(5, 1, b05); if (Unsafe.SizeOf<TBlocks>() > 2) sink.Finish(5, 2, c05); if (Unsafe.SizeOf<TBlocks>() > 3) sink.Finish(5, 3, d05); }
        if (Unsafe.SizeOf<TRows>() > 6) { sink.Finish(6, 0, a06); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(6, 1, b06); }
        if (Unsafe.SizeOf<TRows>() > 7) { sink.Finish(7, 0, a07); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(7, 1, b07); }
        if (Unsafe.SizeOf<TRows>() > 8) { sink.Finish(8, 0, a08); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(8, 1, b08); }
        if (Unsafe.SizeOf<TRows>() > 9) { sink.Finish(9, 0, a09); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(9, 1, b09); }
        if (Unsafe.SizeOf<TRows>() > 10) { sink.Finish(10, 0, a10); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(10, 1, b10); }
        if (Unsafe.SizeOf<TRows>() > 11) { sink.Finish(11, 0, a11); if (Unsafe.SizeOf<TBlocks>() > 1) sink.Finish(11, 1, b11); }
        if (Unsafe.SizeOf<TRows>() > 12) sink.Finish(12, 0, a12);
        if (Unsafe.SizeOf<TRows>() > 13) sink.Finish(13, 0, a13);
        if (Unsafe.SizeOf<TRows>() > 14) sink.Finish(14, 0, a14);
        if (Unsafe.SizeOf<TRows>() > 15) sink.Finish(15, 0, a15);
        if (Unsafe.SizeOf<TRows>() > 16) sink.Finish(16, 0, a16);
        if (Unsafe.SizeOf<TRows>() > 17) sink.Finish(17, 0, a17);
        if (Unsafe.SizeOf<TRows>() > 18) sink.Finish(18, 0, a18);
        if (Unsafe.SizeOf<TRows>() > 19) sink.Finish(19, 0, a19);
        if (Unsafe.SizeOf<TRows>() > 20) sink.Finish(20, 0, a20);
        if (Unsafe.SizeOf<TRows>() > 21) sink.Finish(21, 0, a21);
        if (Unsafe.SizeOf<TRows>() > 22) sink.Finish(22, 0, a22);
        if (Unsafe.SizeOf<TRows>() > 23) sink.Finish(23, 0, a23);
    }

    /// <summary>The operand offset of tile row <paramref name="row"/> (a constant once the JIT knows the row and the steps type).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Offset<TSteps>(int row) where TSteps : struct, ITileSteps =>
        row % TSteps.RowsPerLine * TSteps.RowStride + row / TSteps.RowsPerLine * TSteps.LineStride;
}

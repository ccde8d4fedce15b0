using System;
using System.Buffers;
using MessagePack;

namespace ModelGen;

/// <summary>The MessagePack header of a model file: identity of the model and the sizes of the raw sections that follow it.</summary>
internal sealed class ModelFileHeader
{
    public string ModelType = string.Empty;
    public string Fingerprint = string.Empty;
    public string Architecture = string.Empty;
    public int ParameterCount;

    /// <summary>The trainable ones among the parameters, which optimizer slots cover. Stored only when not all are.</summary>
    public int TrainableParameterCount
    {
        get => _trainable ?? ParameterCount;
        set => _trainable = value;
    }

    private int? _trainable;
    public long SavedAtUtcTicks;
    public short SavedAtOffsetMinutes;

    /// <summary>Null when the file holds no optimizer state.</summary>
    public OptimizerHeader? Optimizer;

    /// <summary>Byte length of the UTF-8 history section; -1 when the file holds no history.</summary>
    public int HistoryLength = -1;

    /// <summary>The output classes' names, or null (optional key: older files have none, older readers skip it).</summary>
    public string[]? ClassNames;

    // Bounds a writer never exceeds; a header outside them is damaged or crafted.
    internal const int MaxSlots = 64;
    internal const int MaxOffsetMinutes = 14 * 60;

    /// <summary>
    /// Bounds the nesting a reader follows (a crafted header cannot overflow the stack). The header is read and written
    /// with MessagePack's reader and writer directly, never through its serializer and resolvers, which find formatters by
    /// reflection and generate code at run time: so model files work under NativeAOT and trimming.
    /// </summary>
    private static readonly MessagePackSecurity Security = MessagePackSecurity.UntrustedData;

    public byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        HeaderFormatter.Write(ref writer, this);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses <paramref name="bytes"/>, which must hold exactly one header; throws <see cref="MessagePackSerializationException"/> otherwise.</summary>
    public static ModelFileHeader Deserialize(ReadOnlyMemory<byte> bytes)
    {
        var reader = new MessagePackReader(bytes);
        ModelFileHeader header;
        try
        {
            header = HeaderFormatter.Read(ref reader);
        }
        catch (Exception e) when (e is not MessagePackSerializationException)
        {
            // Truncation (EndOfStreamException), nesting beyond the bound, numbers out of range: all mean a damaged header.
            throw new MessagePackSerializationException("The header cannot be read.", e);
        }

        if (!reader.End) throw new MessagePackSerializationException("The header has trailing bytes.");
        return header;
    }

    internal sealed class OptimizerHeader
    {
        public string Kind = string.Empty;
        public long Iterations;
        public (string Name, double Value)[] Hyperparameters = [];
        public int SlotCount;
    }

    private static class HeaderFormatter
    {
        public static void Write(ref MessagePackWriter writer, ModelFileHeader value)
        {
            var partlyTrainable = value.TrainableParameterCount != value.ParameterCount;
            writer.WriteMapHeader(7 + (partlyTrainable ? 1 : 0) + (value.ClassNames is null ? 0 : 1));
            writer.Write("modelType");
            writer.Write(value.ModelType);
            writer.Write("fingerprint");
            writer.Write(value.Fingerprint);
            writer.Write("architecture");
            writer.Write(value.Architecture);
            writer.Write("parameterCount");
            writer.Write(value.ParameterCount);
            if (partlyTrainable)
            {
                // Optional (format 1 readers skip keys they do not know): absent means every parameter is trainable.
                writer.Write("trainableParameterCount");
                writer.Write(value.TrainableParameterCount);
            }
            writer.Write("savedAt");
            writer.WriteArrayHeader(2);
            writer.Write(value.SavedAtUtcTicks);
            writer.Write(value.SavedAtOffsetMinutes);
            writer.Write("optimizer");
            if (value.Optimizer is null)
            {
                writer.WriteNil();
            }
            else
            {
                var o = value.Optimizer;
                writer.WriteMapHeader(4);
                writer.Write("kind");
                writer.Write(o.Kind);
                writer.Write("iterations");
                writer.Write(o.Iterations);
                writer.Write("hyperparameters");
                writer.WriteArrayHeader(o.Hyperparameters.Length);
                foreach (var (name, v) in o.Hyperparameters)
                {
                    writer.WriteArrayHeader(2);
                    writer.Write(name);
                    writer.Write(v);
                }
                writer.Write("slots");
                writer.Write(o.SlotCount);
            }
            writer.Write("history");
            if (value.HistoryLength < 0) writer.WriteNil();
            else writer.Write(value.HistoryLength);
            if (value.ClassNames is { } names)
            {
                writer.Write("classNames");
                writer.WriteArrayHeader(names.Length);
                foreach (var name in names) writer.Write(name);
            }
        }

        public static ModelFileHeader Read(ref MessagePackReader reader)
        {
            var header = new ModelFileHeader();
            var seen = 0;
            Security.DepthStep(ref reader);
            var count = ReadMapHeader(ref reader);
            for (var i = 0; i < count; i++)
            {
                switch (ReadKey(ref reader))
                {
                    case "modelType": header.ModelType = ReadText(ref reader); seen |= 1; break;
                    case "fingerprint": header.Fingerprint = ReadText(ref reader); seen |= 2; break;
                    case "architecture": header.Architecture = ReadText(ref reader); seen |= 4; break;
                    case "parameterCount":
                        header.ParameterCount = reader.ReadInt32();
                        if (header.ParameterCount < 0) throw Invalid("negative parameter count");
                        seen |= 8;
                        break;
                    case "trainableParameterCount":
                        header.TrainableParameterCount = reader.ReadInt32();
                        if (header.TrainableParameterCount < 0) throw Invalid("negative trainable parameter count");
                        break;
                    case "savedAt":
                        if (ReadArrayHeader(ref reader) != 2) throw Invalid("savedAt is not [ticks, offset]");
                        header.SavedAtUtcTicks = reader.ReadInt64();
                        header.SavedAtOffsetMinutes = reader.ReadInt16();
                        if (header.SavedAtUtcTicks < DateTimeOffset.MinValue.UtcTicks || header.SavedAtUtcTicks > DateTimeOffset.MaxValue.UtcTicks
                            || Math.Abs((int)header.SavedAtOffsetMinutes) > MaxOffsetMinutes)
                        {
                            throw Invalid("savedAt out of range");
                        }
                        seen |= 16;
                        break;
                    case "optimizer":
                        header.Optimizer = reader.TryReadNil() ? null : ReadOptimizer(ref reader);
                        seen |= 32;
                        break;
                    case "history":
                        if (reader.TryReadNil())
                        {
                            header.HistoryLength = -1;
                        }
                        else
                        {
                            header.HistoryLength = reader.ReadInt32();
                            if (header.HistoryLength < 0) throw Invalid("negative history length");
                        }
                        seen |= 64;
                        break;
                    case "classNames":
                        Security.DepthStep(ref reader);
                        var names = new string[ReadArrayHeader(ref reader)];
                        for (var j = 0; j < names.Length; j++) names[j] = ReadText(ref reader);
                        reader.Depth--;
                        header.ClassNames = names;
                        break;
                    default:
                        // Format 1 readers ignore keys they do not know (documented in docs/model-files.md).
                        SkipValue(ref reader);
                        break;
                }
            }
            reader.Depth--;
            if (seen != 127) throw Invalid("required header fields are missing");
            if (header.TrainableParameterCount > header.ParameterCount) throw Invalid("more trainable parameters than parameters");
            return header;
        }

        private static OptimizerHeader ReadOptimizer(ref MessagePackReader reader)
        {
            var o = new OptimizerHeader();
            var seen = 0;
            Security.DepthStep(ref reader);
            var count = ReadMapHeader(ref reader);
            for (var i = 0; i < count; i++)
            {
                switch (ReadKey(ref reader))
                {
                    case "kind": o.Kind = ReadText(ref reader); seen |= 1; break;
                    case "iterations":
                        o.Iterations = reader.ReadInt64();
                        seen |= 2;
                        break;
                    case "hyperparameters":
                        Security.DepthStep(ref reader);
                        var n = ReadArrayHeader(ref reader);
                        var list = new (string, double)[n];
                        for (var j = 0; j < n; j++)
                        {
                            if (ReadArrayHeader(ref reader) != 2) throw Invalid("hyperparameter is not [name, value]");
                            list[j] = (ReadText(ref reader), reader.ReadDouble());
                        }
                        reader.Depth--;
                        o.Hyperparameters = list;
                        seen |= 4;
                        break;
                    case "slots":
                        o.SlotCount = reader.ReadInt32();
                        if (o.SlotCount < 0 || o.SlotCount > MaxSlots) throw Invalid("slot count out of range");
                        seen |= 8;
                        break;
                    default:
                        SkipValue(ref reader);
                        break;
                }
            }
            reader.Depth--;
            if (seen != 15) throw Invalid("required optimizer fields are missing");
            return o;
        }

        private static long Remaining(ref MessagePackReader reader) => reader.Sequence.Length - reader.Consumed;

        // Every element takes at least one byte, so a count above the bytes left is damage; checking here keeps
        // a mutated count from allocating or looping far beyond the header's size.
        private static int ReadArrayHeader(ref MessagePackReader reader)
        {
            var n = reader.ReadArrayHeader();
            if (n < 0 || n > Remaining(ref reader)) throw Invalid("array longer than the header");
            return n;
        }

        private static int ReadMapHeader(ref MessagePackReader reader)
        {
            var n = reader.ReadMapHeader();
            if (n < 0 || 2L * n > Remaining(ref reader)) throw Invalid("map longer than the header");
            return n;
        }

        private static string ReadKey(ref MessagePackReader reader)
        {
            if (reader.NextMessagePackType != MessagePackType.String) throw Invalid("map key is not a string");
            return ReadText(ref reader);
        }

        private static string ReadText(ref MessagePackReader reader) =>
            reader.ReadString() ?? throw Invalid("text field is nil");

        // Iterative over siblings, recursive only per nesting level, and that level is capped by the security
        // security bound's maximum depth, so crafted nesting cannot overflow the stack.
        private static void SkipValue(ref MessagePackReader reader)
        {
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                {
                    Security.DepthStep(ref reader);
                    var n = ReadArrayHeader(ref reader);
                    for (var i = 0; i < n; i++) SkipValue(ref reader);
                    reader.Depth--;
                    break;
                }
                case MessagePackType.Map:
                {
                    Security.DepthStep(ref reader);
                    var n = ReadMapHeader(ref reader);
                    for (var i = 0; i < 2 * n; i++) SkipValue(ref reader);
                    reader.Depth--;
                    break;
                }
                default:
                    reader.Skip();
                    break;
            }
        }

        private static MessagePackSerializationException Invalid(string what) => new($"Invalid model file header: {what}.");
    }
}

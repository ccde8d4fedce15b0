using System;

namespace ModelGen;

/// <summary>
/// Marks a <c>partial class</c> as a sequential network. The layer attributes on the same declaration run in
/// source order; the ModelGen source generator checks every shape at compile time and generates the model.
/// </summary>
/// <example>
/// <code>
/// [Sequential(28, 28, 1)]
/// [Conv2D(6, 5, Padding = Padding.Same, Activation = Activation.Tanh)]
/// [MaxPool2D(2)]
/// [Flatten]
/// [Dense(10, Activation = Activation.Softmax)]
/// public partial class Tiny;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SequentialAttribute : Attribute
{
    /// <summary>A network whose input is an image of <paramref name="height"/> x <paramref name="width"/> x <paramref name="channels"/> (channels last, like Keras).</summary>
    public SequentialAttribute(int height, int width, int channels)
    {
        Height = height;
        Width = width;
        Channels = channels;
    }

    /// <summary>A network whose input is a flat vector of <paramref name="length"/> values (for example a multi-layer perceptron).</summary>
    public SequentialAttribute(int length)
    {
        Length = length;
    }

    /// <summary>Input height in pixels (0 for a flat input).</summary>
    public int Height { get; }

    /// <summary>Input width in pixels (0 for a flat input).</summary>
    public int Width { get; }

    /// <summary>Input channels (0 for a flat input).</summary>
    public int Channels { get; }

    /// <summary>Length of a flat input (0 for an image input).</summary>
    public int Length { get; }
}

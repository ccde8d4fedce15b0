namespace ModelGen;

/// <summary>
/// A network declared with ModelGen's attributes: what the runtime (training loop, evaluation, model files) and you can
/// ask of any model. The numeric passes behind it are generated for exactly that network, with every dimension a
/// constant and no layer objects.
/// </summary>
public interface INetwork
{
    /// <summary>Shapes, layers and parameter layout of this network, fixed at compile time.</summary>
    NetworkDescription Description { get; }

    /// <summary>
    /// All parameters in one contiguous buffer, laid out as <see cref="NetworkDescription.ParameterViews"/> says: the
    /// trainable ones first (<see cref="NetworkDescription.TrainableParameterCount"/>), then the non-trainable state.
    /// </summary>
    float[] Parameters { get; }

    /// <summary>The optimizer that trains this network; kept between <c>Fit</c> calls and saved with the model.</summary>
    Optimizer? Optimizer { get; set; }

    /// <summary>What training recorded so far; saved with the model.</summary>
    TrainingHistory? History { get; set; }
}

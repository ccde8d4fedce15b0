namespace ModelGen;

/// <summary>Loss and accuracy of a model on a data set (what Keras's <c>evaluate</c> returns).</summary>
/// <param name="Loss">Mean sparse categorical cross-entropy over the samples.</param>
/// <param name="Accuracy">Fraction of samples whose predicted class is the label, 0..1.</param>
public sealed record EvaluationResult(double Loss, double Accuracy);

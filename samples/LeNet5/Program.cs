using LeNet5Sample;

var model = new LeNet5(seed: 42);
Console.WriteLine(LeNet5.Summary);
var probabilities = model.Predict(new float[LeNet5.InputLength]);
Console.WriteLine(string.Join(" ", probabilities.Select(p => p.ToString("F3"))));

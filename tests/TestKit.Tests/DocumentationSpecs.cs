using Xunit;

namespace Netmem.TestKit.Tests;

public sealed class DocumentationSpecs
{
    [Fact]
    public void The_README_sample_in_testing_your_consumers_is_the_test_that_is_compiled_and_run()
    {
        string document = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md")).ReplaceLineEndings("\n");
        string sample = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestingYourConsumersSample.cs")).ReplaceLineEndings("\n");
        string code = sample[(sample.IndexOf('\n') + 1)..].TrimEnd();

        Assert.Contains("```csharp\n" + code + "\n```", document);
    }
}

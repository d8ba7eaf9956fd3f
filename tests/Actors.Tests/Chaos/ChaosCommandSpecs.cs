using Netmem.Chaos;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

[Collection(ChaosRunCollection.Name)]
public sealed class ChaosCommandSpecs
{
    [Theory]
    [InlineData("--devices", "0")]
    [InlineData("--devices", "two")]
    [InlineData("--queues", "-1")]
    [InlineData("--consumers", "0")]
    [InlineData("--fault-rate", "1.5")]
    [InlineData("--fault-rate", "NaN")]
    [InlineData("--duration", "0")]
    [InlineData("--duration", "soon")]
    [InlineData("--duration", "1e20")]
    [InlineData("--duration", "-5")]
    [InlineData("--json", "/no/such/directory/report.json")]
    [InlineData("--seed", "-3")]
    [InlineData("--rate", "0")]
    [InlineData("--driver-crash", "maybe")]
    [InlineData("--no-such-option", "1")]
    public async Task A_bad_option_value_is_explained_and_exits_with_code_2(string option, string value)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = await ChaosCommand.InvokeAsync(["chaos", option, value], output, error);

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Contains("error:", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("chaos run report", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_every_option_and_runs_nothing()
    {
        var output = new StringWriter();

        int exit = await ChaosCommand.InvokeAsync(["chaos", "--help"], output, new StringWriter());

        Assert.Equal(0, exit);
        foreach (string option in new[] { "--seed", "--duration", "--devices", "--queues", "--consumers", "--fault-rate", "--json", "--driver-crash", "--late-return-storm" })
        {
            Assert.Contains(option, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_run_prints_its_seed_first_ends_with_the_summary_and_writes_the_json_report()
    {
        string json = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");
        var output = new StringWriter();
        try
        {
            int exit = await ChaosCommand.InvokeAsync(
                ["chaos", "--seed", "314", "--duration", "1s", "--devices", "1", "--consumers", "3", "--rate", "2000", "--json", json],
                output,
                new StringWriter());

            string text = output.ToString();
            Assert.StartsWith("chaos run seed 314", text, StringComparison.Ordinal);
            Assert.Contains("chaos run report", text, StringComparison.Ordinal);
            ChaosReport report = ChaosReportJson.Deserialize(await File.ReadAllTextAsync(json))!;
            Assert.Equal(314UL, report.Seed);
            Assert.Equal(report.Passed ? ChaosCommand.ExitPassed : ChaosCommand.ExitViolations, exit);
            Assert.Equal(ChaosCommand.ExitPassed, exit);
        }
        finally
        {
            File.Delete(json);
        }
    }
}

using Netmem.Chaos;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Seeds and settings that once exposed a defect stay here, so the defect cannot come back unseen.</summary>
[Collection(ChaosRunCollection.Name)]
public sealed class ChaosRegressionSpecs
{
    /// <summary>
    /// Seed 42 with the default topology: while the runtime was being composed, its unbinds timed out in the
    /// destroy phase, leaving every inflight page mapped at teardown (thousands of leaked mappings and pages).
    /// </summary>
    [Fact]
    public async Task Seed_42_unbinds_completely_under_every_fault()
    {
        ChaosReport report = await ChaosRunner.RunAsync(ChaosTestRuns.Short(42, seconds: 3) with { Consumers = 12 });

        Assert.True(report.Passed, string.Join(", ", report.Violations.Counters().Where(c => c.Count != 0)));
        Assert.DoesNotContain(report.Problems, p => p.Contains("TimedOut", StringComparison.Ordinal));
    }

    /// <summary>A high fault rate on one device: unbind cycles back to back with storms and crashing drivers.</summary>
    [Fact]
    public async Task A_fault_rate_ten_times_the_default_still_loses_nothing()
    {
        ChaosReport report = await ChaosRunner.RunAsync(ChaosTestRuns.Short(5, seconds: 2.5) with { Devices = 1, FaultRate = 0.1 });

        Assert.True(report.Passed, string.Join(", ", report.Violations.Counters().Where(c => c.Count != 0)));
        Assert.True(report.Rebinds > 0);
        Assert.True(report.FaultsInjected[FaultKind.LateReturnStorm] > 0);
        Assert.True(report.StormReturns > 0);
    }
}

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

    /// <summary>
    /// A driver stuck inside the device past its quiesce, with unbinds under load: when the unbind destroyed the pools
    /// one quiesce timeout after giving up on the driver, the stuck reap came back and wrote the frames waiting on the
    /// wire into posted pages destroy had unmapped (seed 7, 20 s: 24,179 DMA writes to unmapped pages).
    /// </summary>
    [Fact]
    public async Task A_driver_stuck_in_the_device_at_every_unbind_never_has_a_posted_page_unmapped_under_it()
    {
        ChaosReport report = await ChaosRunner.RunAsync(ChaosTestRuns.Short(7, seconds: 4) with
        {
            Devices = 1,
            FaultRate = 0.05,
            EnabledFaults = new HashSet<FaultKind> { FaultKind.DriverStuck, FaultKind.UnbindUnderLoad },
        });

        Assert.True(report.FaultsInjected[FaultKind.DriverStuck] > 0, "no driver was stuck");
        Assert.True(report.PhaseTimeouts > 0, "no quiesce timed out");
        Assert.True(report.Passed, string.Join(", ", report.Violations.Counters().Where(c => c.Count != 0)));
    }
}

using Netmem.Chaos;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

[Collection(ChaosRunCollection.Name)]
public sealed class ChaosRunSpecs
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(7UL)]
    [InlineData(20261124UL)]
    public async Task A_short_run_with_every_fault_finds_no_violation_and_its_counts_add_up(ulong seed)
    {
        ChaosReport report = await ChaosRunner.RunAsync(ChaosTestRuns.Short(seed));

        Assert.DoesNotContain(report.Violations.Counters(), c => c.Count != 0);
        Assert.Contains(report.Violations.Counters(), c => c.Name == "device wrote after unmap");
        Assert.True(report.Passed);
        Assert.True(report.Packets.AddsUp, $"received {report.Packets.Received}, delivered {report.Packets.Delivered}, dropped {report.Packets.Dropped}");
        Assert.True(report.Packets.Received > 0);
        Assert.True(report.Packets.Delivered > 0);
        Assert.True(report.Unbinds >= report.Devices, "every device is unbound at least once, at shutdown");
        // A slow-unmap unbind may revoke every mapping it had not reached, so "unmapped or revoked" is what must move.
        Assert.True(report.PagesUnmappedByDestroy + report.PagesRevokedWithDomain > 0, "consumers hold pages at every unbind, so destroy unmaps (or revokes) some");
        Assert.True(report.LateReturns > 0);
        Assert.Equal(report.FaultLedger.Count, report.FaultsInjected.Values.Sum());
        Assert.True(report.FaultsInjected[FaultKind.DmaMapFailure] + report.FaultsInjected[FaultKind.AllocationFailure] > 0);
        Assert.True(report.FaultsInjected[FaultKind.ConsumerMisuse] > 0);
        Assert.Equal(report.FaultsInjected[FaultKind.ConsumerMisuse], report.MisuseRejected.Values.Sum());
    }

    [Fact]
    public async Task A_run_without_faults_delivers_traffic_and_unbinds_only_at_shutdown()
    {
        ChaosReport report = await ChaosRunner.RunAsync(ChaosTestRuns.Quiet());

        Assert.True(report.Passed);
        Assert.Empty(report.FaultLedger);
        Assert.Equal(report.Devices, report.Unbinds);
        Assert.Equal(0, report.Rebinds);
        Assert.True(report.Packets.AddsUp);
        Assert.True(report.Packets.Delivered > 0);
    }
}

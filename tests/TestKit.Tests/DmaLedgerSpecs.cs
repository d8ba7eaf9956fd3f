using System.Collections.Concurrent;
using Netmem.TestKit.Internal;
using Xunit;

namespace Netmem.TestKit.Tests;

/// <summary>The kit's own oracle for devices without a strict model, shown catching each breach it is there for.</summary>
public sealed class DmaLedgerSpecs
{
    [Fact]
    public void Maps_matched_by_unmaps_and_syncs_of_live_mappings_are_no_violation()
    {
        var violations = new ConcurrentQueue<string>();
        var ledger = new DmaLedger("eth9", 1, violations);

        ledger.Mapped(0x1000);
        ledger.Synced("SyncForCpu", 0x1000);
        ledger.Unmapped(0x1000);
        ledger.TornDown(revokedMappings: 0);

        Assert.Empty(violations);
    }

    [Fact]
    public void A_double_unmap_a_sync_of_an_unmapped_address_and_a_call_after_teardown_are_each_named()
    {
        var violations = new ConcurrentQueue<string>();
        var ledger = new DmaLedger("eth9", 2, violations);
        ledger.Mapped(0x2000);
        ledger.Unmapped(0x2000);

        ledger.Unmapped(0x2000);
        ledger.Synced("SyncForDevice", 0x2000);
        ledger.TornDown(revokedMappings: 0);
        ledger.Mapped(0x3000);

        Assert.Equal(
        [
            "eth9 bind 2: unmap of 0x2000, which is not mapped (a double unmap or a forged address).",
            "eth9 bind 2: SyncForDevice of 0x2000, which is not mapped.",
            "eth9 bind 2: Map of 0x3000 after the domain was torn down.",
        ], violations);
    }

    [Fact]
    public void Mappings_live_at_teardown_beyond_those_the_pools_revoked_are_reported_as_leaked()
    {
        var violations = new ConcurrentQueue<string>();
        var ledger = new DmaLedger("eth9", 3, violations);
        ledger.Mapped(0x1000);
        ledger.Mapped(0x2000);
        ledger.Mapped(0x3000);

        ledger.TornDown(revokedMappings: 1);

        Assert.Equal(["eth9 bind 3: 2 mapping(s) were still live when the domain was torn down and no pool had revoked them (leaked mappings)."], violations);
    }
}

using Netmem.Pool.Dma;
using Xunit;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>The oracle tested on planted bugs: each breach it exists to catch is made on purpose and must be flagged.</summary>
public sealed class DmaOracleSpecs
{
    [Fact]
    public void The_oracle_flags_a_double_unmap_an_unknown_unmap_a_sync_of_an_unmapped_address_and_a_reused_live_address()
    {
        var oracle = new DmaOracle(1);
        var device = new RecordingDmaDevice(new FixedAddressDevice(0x1000), oracle);

        ulong address = device.Map(new DmaBuffer(1, 0, 4096), DmaDirection.FromDevice);
        device.Unmap(address, 4096, DmaDirection.FromDevice);
        Assert.Empty(oracle.Violations);

        device.Unmap(address, 4096, DmaDirection.FromDevice);
        device.Unmap(0x2000, 4096, DmaDirection.FromDevice);
        device.SyncForCpu(address, 0, 64, DmaDirection.FromDevice);
        device.Map(new DmaBuffer(2, 0, 4096), DmaDirection.FromDevice);
        device.Map(new DmaBuffer(3, 0, 4096), DmaDirection.FromDevice);

        Assert.Equal(4, oracle.Violations.Count);
    }

    [Fact]
    public void The_oracle_flags_every_call_after_Unbound_and_an_Unbound_that_overtook_the_teardown()
    {
        var oracle = new DmaOracle(1);
        var device = new RecordingDmaDevice(new FixedAddressDevice(0x1000), oracle);
        ulong address = device.Map(new DmaBuffer(1, 0, 4096), DmaDirection.FromDevice);

        oracle.MarkUnbound();
        device.Unmap(address, 4096, DmaDirection.FromDevice);

        Assert.Equal(2, oracle.Violations.Count);
        Assert.Contains(oracle.Violations, v => v.Contains("before the domain was torn down", StringComparison.Ordinal));
        Assert.Contains(oracle.Violations, v => v.Contains("after Unbound", StringComparison.Ordinal));
    }

    /// <summary>A device that hands out one address for every map: a planted double hand-out.</summary>
    private sealed class FixedAddressDevice(ulong address) : IDmaDevice
    {
        public string Name => "fixed";

        public bool NeedsSync => false;

        public ulong Map(DmaBuffer buffer, DmaDirection direction) => address;

        public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
        {
        }

        public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
        {
        }

        public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
        {
        }
    }
}

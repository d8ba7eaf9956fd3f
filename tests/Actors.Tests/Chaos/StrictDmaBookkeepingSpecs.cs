using Netmem.Chaos;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// The bookkeeping in front of the real device must classify every DMA API misuse as the simulated device's strict
/// model does, including on a device that reuses its addresses.
/// </summary>
public sealed class StrictDmaBookkeepingSpecs
{
    private static readonly DmaBuffer Page = new(1, 0, 4096);
    private const DmaDirection In = DmaDirection.FromDevice;

    private readonly IommuModel _shadow = new("shadow");
    private readonly SlotTableDevice _device = new();
    private readonly StrictDmaBookkeeping _bookkeeping;

    public StrictDmaBookkeepingSpecs()
    {
        _bookkeeping = new StrictDmaBookkeeping(_device, _shadow);
    }

    [Fact]
    public void Maps_syncs_and_unmaps_in_order_are_no_violation_and_leave_nothing_mapped()
    {
        ulong a = _bookkeeping.Map(Page, In);
        ulong b = _bookkeeping.Map(Page, In);
        _bookkeeping.SyncForDevice(a, 0, 64, In);
        _bookkeeping.SyncForCpu(b, 0, 64, In);
        _bookkeeping.Unmap(a, 4096, In);
        _bookkeeping.Unmap(b, 4096, In);

        Assert.Empty(_shadow.Violations);
        Assert.Equal(0, _shadow.LiveMappingCount);
        Assert.Equal(2, _device.Unmaps);
    }

    [Fact]
    public void A_second_unmap_of_an_address_is_a_double_unmap_and_still_reaches_the_device()
    {
        ulong a = _bookkeeping.Map(Page, In);
        _bookkeeping.Unmap(a, 4096, In);
        _bookkeeping.Unmap(a, 4096, In);

        Assert.Equal(1, _shadow.CountOf(IommuViolationKind.DoubleUnmap));
        Assert.Equal(1, _shadow.ViolationCount);
        Assert.Equal(2, _device.Unmaps);
    }

    [Fact]
    public void An_address_the_device_hands_out_again_is_a_fresh_mapping_not_a_double_unmap()
    {
        ulong a = _bookkeeping.Map(Page, In);
        _bookkeeping.Unmap(a, 4096, In);
        ulong again = _bookkeeping.Map(Page, In);
        _bookkeeping.Unmap(again, 4096, In);

        Assert.Equal(a, again);
        Assert.Empty(_shadow.Violations);
    }

    [Fact]
    public void An_unmap_of_an_address_never_mapped_is_an_unmap_of_an_unknown_address()
    {
        _bookkeeping.Unmap(0xDEAD_0000, 4096, In);

        Assert.Equal(1, _shadow.CountOf(IommuViolationKind.UnmapOfUnknownAddress));
        Assert.Equal(1, _shadow.ViolationCount);
    }

    [Fact]
    public void An_unmap_of_a_live_address_with_another_length_is_a_length_mismatch_not_an_unknown_address()
    {
        ulong a = _bookkeeping.Map(Page, In);
        _bookkeeping.Unmap(a, 1024, In);

        Assert.Equal(1, _shadow.CountOf(IommuViolationKind.UnmapLengthMismatch));
        Assert.Equal(1, _shadow.ViolationCount);
        Assert.Equal(0, _shadow.LiveMappingCount);
    }

    [Fact]
    public void A_sync_of_an_unmapped_address_is_counted()
    {
        ulong a = _bookkeeping.Map(Page, In);
        _bookkeeping.Unmap(a, 4096, In);
        _bookkeeping.SyncForCpu(a, 0, 64, In);

        Assert.Equal(1, _shadow.CountOf(IommuViolationKind.SyncOfUnmappedAddress));
    }

    [Fact]
    public void Calls_after_the_domain_went_are_calls_after_unbind_and_a_mapping_left_is_a_leak()
    {
        ulong a = _bookkeeping.Map(Page, In);
        ulong b = _bookkeeping.Map(Page, In);
        _bookkeeping.Unmap(a, 4096, In);
        (int stillMapped, int leaked) = _shadow.TearDown(revokedMappings: 0);

        _bookkeeping.Unmap(b, 4096, In);
        Assert.Throws<DmaMapException>(() => _bookkeeping.Map(Page, In));

        Assert.Equal((1, 1), (stillMapped, leaked));
        Assert.Equal(1, _shadow.CountOf(IommuViolationKind.MappingLeakedAtUnbind));
        Assert.Equal(2, _shadow.CountOf(IommuViolationKind.CallAfterUnbind));
    }
}

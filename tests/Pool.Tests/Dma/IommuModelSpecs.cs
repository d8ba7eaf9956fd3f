using System.Runtime.InteropServices;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests.Dma;

public sealed unsafe class IommuModelSpecs : IDisposable
{
    private readonly byte* _memory = (byte*)NativeMemory.AllocZeroed(4 * 4096);

    public void Dispose() => NativeMemory.Free(_memory);

    [Fact]
    public void Each_mapping_gets_its_own_live_address_until_it_is_unmapped()
    {
        var iommu = new IommuModel("dev");

        ulong first = iommu.Map(Page(0), DmaDirection.FromDevice);
        ulong second = iommu.Map(Page(1), DmaDirection.FromDevice);

        Assert.NotEqual(first, second);
        Assert.True(iommu.IsMapped(first));
        Assert.Equal(2, iommu.LiveMappingCount);
        iommu.Unmap(first, 4096, DmaDirection.FromDevice);
        Assert.False(iommu.IsMapped(first));
        Assert.True(iommu.IsMapped(second));
        Assert.Equal(2, iommu.MapCalls);
        Assert.Equal(1, iommu.UnmapCalls);
        Assert.Empty(iommu.Violations);
    }

    [Fact]
    public void A_double_unmap_is_counted_and_listed()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);
        iommu.Unmap(address, 4096, DmaDirection.FromDevice);

        iommu.Unmap(address, 4096, DmaDirection.FromDevice);

        OnlyViolation(iommu, IommuViolationKind.DoubleUnmap, address);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x1234UL)]
    [InlineData(0x1_0000_0010UL)]
    [InlineData(0xFFFF_0000_0000UL)]
    public void An_unmap_of_an_address_never_mapped_is_counted_and_listed(ulong address)
    {
        var iommu = new IommuModel("dev");
        iommu.Map(Page(0), DmaDirection.FromDevice);

        iommu.Unmap(address, 4096, DmaDirection.FromDevice);

        OnlyViolation(iommu, IommuViolationKind.UnmapOfUnknownAddress, address);
        Assert.Equal(1, iommu.LiveMappingCount);
    }

    [Fact]
    public void An_unmap_with_another_length_than_mapped_is_a_length_mismatch_in_words_and_still_ends_the_mapping()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);

        iommu.Unmap(address, 2048, DmaDirection.FromDevice);

        OnlyViolation(iommu, IommuViolationKind.UnmapLengthMismatch, address);
        Assert.Equal("dev: unmap length does not match the mapping: mapped 4096 bytes, unmapped 2048", iommu.Violations[0].Detail);
        Assert.False(iommu.IsMapped(address));
        Assert.Equal(0, iommu.CountOf(IommuViolationKind.UnmapOfUnknownAddress));
    }

    [Fact]
    public void An_unmap_with_another_direction_than_mapped_is_a_direction_mismatch_in_words_and_still_ends_the_mapping()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);

        iommu.Unmap(address, 4096, DmaDirection.Bidirectional);

        OnlyViolation(iommu, IommuViolationKind.UnmapDirectionMismatch, address);
        Assert.Equal(
            "dev: unmap direction does not match the mapping: mapped for the device to write, unmapped for the device to read and write",
            iommu.Violations[0].Detail);
        Assert.False(iommu.IsMapped(address));
    }

    [Fact]
    public void An_unmap_wrong_in_length_and_direction_is_both_mismatches_and_a_later_unmap_of_it_a_double_unmap()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.Bidirectional);

        iommu.Unmap(address, 100, DmaDirection.FromDevice);
        iommu.Unmap(address, 4096, DmaDirection.Bidirectional);

        Assert.Equal(
            [IommuViolationKind.UnmapLengthMismatch, IommuViolationKind.UnmapDirectionMismatch, IommuViolationKind.DoubleUnmap],
            iommu.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void Every_call_after_unbind_is_counted_and_listed_and_a_map_fails()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);
        iommu.Unmap(address, 4096, DmaDirection.FromDevice);
        Assert.Equal(0, iommu.Unbind());
        Assert.False(iommu.IsBound);

        Assert.Throws<DmaMapException>(() => iommu.Map(Page(1), DmaDirection.FromDevice));
        iommu.Unmap(address, 4096, DmaDirection.FromDevice);
        iommu.SyncForDevice(address, 0, 64, DmaDirection.FromDevice);
        iommu.SyncForCpu(address, 0, 64, DmaDirection.FromDevice);
        Assert.False(iommu.DmaWrite(address, 0, new byte[8]));

        Assert.Equal(5, iommu.CountOf(IommuViolationKind.CallAfterUnbind));
        Assert.Equal(5, iommu.ViolationCount);
        Assert.All(iommu.Violations, v => Assert.Equal(IommuViolationKind.CallAfterUnbind, v.Kind));
        Assert.Equal(0, iommu.LiveMappingCount);
    }

    [Fact]
    public void A_dma_write_lands_in_host_memory_only_inside_a_live_mapping()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(2), DmaDirection.FromDevice);

        Assert.True(iommu.DmaWrite(address, 10, [1, 2, 3]));
        Assert.Equal(new byte[] { 1, 2, 3 }, new ReadOnlySpan<byte>(_memory + (2 * 4096) + 10, 3).ToArray());
        Assert.Empty(iommu.Violations);

        Assert.False(iommu.DmaWrite(address, 4095, [1, 2]));
        Assert.False(iommu.DmaWrite(address, -1, [1]));
        iommu.Unmap(address, 4096, DmaDirection.FromDevice);
        Assert.False(iommu.DmaWrite(address, 0, [9]));

        Assert.Equal(3, iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.Equal(0, _memory[2 * 4096]);
        Assert.Equal(4, iommu.DmaWrites);
    }

    [Fact]
    public void A_sync_of_an_unmapped_address_or_outside_the_mapping_is_counted_and_listed()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);

        iommu.SyncForDevice(address, 0, 4096, DmaDirection.FromDevice);
        iommu.SyncForCpu(address, 128, 1500, DmaDirection.FromDevice);
        Assert.Empty(iommu.Violations);

        iommu.SyncForCpu(address, 4000, 200, DmaDirection.FromDevice);
        iommu.SyncForDevice(address + IommuModel.SlotSize * 50UL, 0, 64, DmaDirection.FromDevice);
        iommu.Unmap(address, 4096, DmaDirection.FromDevice);
        iommu.SyncForCpu(address, 0, 64, DmaDirection.FromDevice);

        Assert.Equal(3, iommu.CountOf(IommuViolationKind.SyncOfUnmappedAddress));
        Assert.Equal(5, iommu.SyncCalls);
    }

    [Fact]
    public void Mappings_still_live_at_unbind_are_leaks_each_listed_then_dropped()
    {
        var iommu = new IommuModel("dev");
        ulong kept = iommu.Map(Page(0), DmaDirection.FromDevice);
        ulong leakedA = iommu.Map(Page(1), DmaDirection.FromDevice);
        ulong leakedB = iommu.Map(Page(2), DmaDirection.Bidirectional);
        iommu.Unmap(kept, 4096, DmaDirection.FromDevice);

        Assert.Equal(2, iommu.Unbind());

        Assert.Equal(2, iommu.CountOf(IommuViolationKind.MappingLeakedAtUnbind));
        Assert.Equal(new[] { leakedA, leakedB }, iommu.Violations.Select(v => v.DmaAddress).Order());
        Assert.Equal(0, iommu.LiveMappingCount);
        Assert.Equal(0, iommu.Unbind());
        Assert.Equal(2, iommu.ViolationCount);
    }

    [Fact]
    public void After_a_rebind_the_device_maps_again_and_old_addresses_stay_unknown()
    {
        var iommu = new IommuModel("dev");
        ulong before = iommu.Map(Page(0), DmaDirection.FromDevice);
        iommu.Unmap(before, 4096, DmaDirection.FromDevice);
        iommu.Unbind();

        iommu.Bind();
        ulong after = iommu.Map(Page(0), DmaDirection.FromDevice);

        Assert.True(iommu.IsBound);
        Assert.NotEqual(before, after);
        Assert.True(iommu.DmaWrite(after, 0, [1]));
        iommu.Unmap(after, 4096, DmaDirection.FromDevice);
        Assert.Empty(iommu.Violations);
        iommu.Unmap(before, 4096, DmaDirection.FromDevice);
        OnlyViolation(iommu, IommuViolationKind.DoubleUnmap, before);
    }

    [Fact]
    public void The_failure_injector_decides_per_map_operation_number()
    {
        var iommu = new IommuModel("dev") { MapFailureInjector = operation => operation % 2 == 1 };

        ulong first = iommu.Map(Page(0), DmaDirection.FromDevice);
        Assert.Throws<DmaMapException>(() => iommu.Map(Page(1), DmaDirection.FromDevice));
        ulong third = iommu.Map(Page(1), DmaDirection.FromDevice);

        Assert.Equal(3, iommu.MapCalls);
        Assert.Equal(2, iommu.LiveMappingCount);
        Assert.True(iommu.IsMapped(first) && iommu.IsMapped(third));
        Assert.Empty(iommu.Violations);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(IommuModel.SlotSize + 1)]
    public void A_buffer_that_does_not_fit_an_iova_slot_is_refused(int length)
    {
        var iommu = new IommuModel("dev");
        Assert.Throws<ArgumentOutOfRangeException>(() => iommu.Map(new DmaBuffer(0, (nint)_memory, length), DmaDirection.FromDevice));
        Assert.Equal(0, iommu.LiveMappingCount);
    }

    [Fact]
    public void Concurrent_maps_and_unmaps_from_many_threads_are_all_accounted()
    {
        var iommu = new IommuModel("dev");

        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 2000; i++)
            {
                ulong address = iommu.Map(Page(i % 4), DmaDirection.FromDevice);
                iommu.Unmap(address, 4096, DmaDirection.FromDevice);
            }
        });

        Assert.Equal(8000, iommu.MapCalls);
        Assert.Equal(8000, iommu.UnmapCalls);
        Assert.Equal(0, iommu.LiveMappingCount);
        Assert.Empty(iommu.Violations);
    }

    [Fact]
    public void The_no_op_device_maps_to_the_host_address_and_needs_no_sync()
    {
        var device = new NoOpDmaDevice();

        Assert.Equal((ulong)(nint)_memory, device.Map(Page(0), DmaDirection.FromDevice));
        Assert.Equal(43UL, device.Map(new DmaBuffer(42, 0, 4096), DmaDirection.FromDevice));
        Assert.False(device.NeedsSync);
    }

    private static void OnlyViolation(IommuModel iommu, IommuViolationKind kind, ulong address)
    {
        IommuViolation violation = Assert.Single(iommu.Violations);
        Assert.Equal(kind, violation.Kind);
        Assert.Equal(address, violation.DmaAddress);
        Assert.Equal(1, iommu.CountOf(kind));
        Assert.Contains("dev", violation.Detail);
    }

    private DmaBuffer Page(int index) => new((ulong)index, (nint)(_memory + (index * 4096)), 4096);
}

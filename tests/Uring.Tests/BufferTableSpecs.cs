using System.Net;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.TestSupport;
using Netmem.Uring.Interop;
using Netmem.Uring.Ring;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>The registered-buffer table as the queues' DMA API: maps pin, unmaps unpin, the kernel confirms.</summary>
public sealed class BufferTableSpecs
{
    private static UringBinding BindUdp(int slots = 64, int queues = 1) =>
        new UringDevice(new UringDeviceOptions { Source = UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0)), SlotsPerQueue = slots })
            .Bind(new DeviceBindContext(queues, 4096, Math.Min(32, slots)));

    [LockedMemoryFact]
    public void A_map_and_unmap_round_trip_is_confirmed_by_the_kernels_unpin_completion()
    {
        using var pages = new NativePages(8);
        UringBinding binding = BindUdp();
        IDmaDevice dma = binding.GetDmaDevice(0);
        Assert.False(dma.NeedsSync);

        var addresses = new ulong[pages.Count];
        for (int i = 0; i < pages.Count; i++)
        {
            addresses[i] = dma.Map(pages[i], DmaDirection.FromDevice);
        }

        Assert.Equal(pages.Count, addresses.Distinct().Count());
        Assert.Equal(pages.Count, binding.GetCounters().LiveSlots);
        foreach (ulong address in addresses)
        {
            dma.SyncForCpu(address, 0, 4096, DmaDirection.FromDevice);
            dma.Unmap(address, 4096, DmaDirection.FromDevice);
        }

        DeviceTeardownReport report = binding.TearDown(0);
        UringCounters counters = binding.GetCounters();
        Assert.Equal(new DeviceTeardownReport(0, 0, 0), report);
        Assert.Equal(pages.Count, counters.Maps);
        Assert.Equal(pages.Count, counters.Unmaps);
        Assert.Equal(pages.Count, counters.UnpinConfirmations);
        Assert.Equal(0, counters.Violations);
    }

    [LockedMemoryFact]
    public void A_page_pool_maps_and_unmaps_through_the_table_and_every_unpin_is_confirmed()
    {
        UringBinding binding = BindUdp(slots: 256);
        var pool = new PagePool(new PagePoolOptions { Device = binding.GetDmaDevice(0), QueueIndex = 0 });
        var pages = Enumerable.Range(0, 100).Select(_ => pool.Allocate()).ToList();
        Assert.All(pages, p => Assert.NotEqual(0UL, pool.GetDmaAddress(p)));
        pages.ForEach(pool.Return);
        pool.Destroy();

        DeviceTeardownReport report = binding.TearDown(0);
        UringCounters counters = binding.GetCounters();
        Assert.Equal(0, report.StillMapped);
        Assert.True(counters.Maps >= 100);
        Assert.Equal(counters.Maps, counters.Unmaps);
        Assert.Equal(counters.Maps, counters.UnpinConfirmations);
        Assert.Equal(0, report.Violations);
    }

    [LockedMemoryFact]
    public void A_second_map_of_a_mapped_page_and_an_unmap_of_an_unknown_address_are_refused_and_counted()
    {
        using var pages = new NativePages(2);
        UringBinding binding = BindUdp();
        IDmaDevice dma = binding.GetDmaDevice(0);
        ulong address = dma.Map(pages[0], DmaDirection.FromDevice);

        Assert.Throws<InvalidOperationException>(() => dma.Map(pages[0], DmaDirection.FromDevice));
        Assert.Throws<InvalidOperationException>(() => dma.Unmap(address + (1UL << 20), 4096, DmaDirection.FromDevice));
        Assert.Throws<InvalidOperationException>(() => dma.Unmap(12345, 4096, DmaDirection.FromDevice));
        dma.Unmap(address, 4096, DmaDirection.FromDevice);
        Assert.Throws<InvalidOperationException>(() => dma.Unmap(address, 4096, DmaDirection.FromDevice));

        // The slot is reused with a new generation: the stale address still fails.
        ulong again = dma.Map(pages[1], DmaDirection.FromDevice);
        Assert.NotEqual(address, again);
        Assert.Throws<InvalidOperationException>(() => dma.Unmap(address, 4096, DmaDirection.FromDevice));
        dma.Unmap(again, 4096, DmaDirection.FromDevice);

        DeviceTeardownReport report = binding.TearDown(0);
        Assert.Equal(5, binding.GetCounters().MisuseViolations);
        Assert.Equal(5, report.Violations);
        Assert.Equal(2, binding.GetCounters().UnpinConfirmations);
    }

    [LockedMemoryFact]
    public void Teardown_with_pages_still_mapped_revokes_them_with_the_domain_and_sees_every_unpin()
    {
        using var pages = new NativePages(10);
        UringBinding binding = BindUdp();
        IDmaDevice dma = binding.GetDmaDevice(0);
        var addresses = Enumerable.Range(0, 10).Select(i => dma.Map(pages[i], DmaDirection.FromDevice)).ToArray();
        dma.Unmap(addresses[3], 4096, DmaDirection.FromDevice);
        dma.Unmap(addresses[7], 4096, DmaDirection.FromDevice);

        DeviceTeardownReport report = binding.TearDown(revokedMappings: 8);
        UringCounters counters = binding.GetCounters();
        Assert.Equal(new DeviceTeardownReport(8, 0, 0), report);
        Assert.Equal(8, counters.RevokedAtTeardown);
        Assert.Equal(10, counters.UnpinConfirmations);
        Assert.Equal(0, counters.LiveSlots);
    }

    [LockedMemoryFact]
    public void Mappings_still_live_that_no_pool_revoked_are_reported_as_leaks()
    {
        using var pages = new NativePages(6);
        UringBinding binding = BindUdp();
        IDmaDevice dma = binding.GetDmaDevice(0);
        for (int i = 0; i < 6; i++)
        {
            dma.Map(pages[i], DmaDirection.FromDevice);
        }

        DeviceTeardownReport report = binding.TearDown(revokedMappings: 2);
        Assert.Equal(6, report.StillMapped);
        Assert.Equal(4, report.LeakedMappings);
        Assert.Equal(6, binding.GetCounters().UnpinConfirmations);
    }

    [LockedMemoryFact]
    public void Every_call_after_teardown_is_refused_and_counted_as_a_violation()
    {
        using var pages = new NativePages(2);
        UringBinding binding = BindUdp();
        IDmaDevice dma = binding.GetDmaDevice(0);
        ulong address = dma.Map(pages[0], DmaDirection.FromDevice);
        binding.TearDown(revokedMappings: 1);

        Assert.Throws<InvalidOperationException>(() => dma.Map(pages[1], DmaDirection.FromDevice));
        Assert.Throws<InvalidOperationException>(() => dma.Unmap(address, 4096, DmaDirection.FromDevice));
        Assert.Throws<InvalidOperationException>(() => dma.SyncForCpu(address, 0, 64, DmaDirection.FromDevice));
        Assert.Throws<InvalidOperationException>(() => binding.GetDmaDevice(0));
        Assert.Throws<InvalidOperationException>(() => binding.TearDown(0));
        Assert.Equal(5, binding.GetCounters().MisuseViolations);
        Assert.Equal(0, binding.GetCounters().KernelErrors);
    }

    [LockedMemoryFact]
    public void A_slot_update_the_kernel_refuses_is_counted_as_a_kernel_error_and_a_violation()
    {
        using var pages = new NativePages(1);
        UringBinding binding = BindUdp(slots: 16);
        var table = (RegisteredBufferTable)binding.GetDmaDevice(0);

        int result = table.UpdateRaw(slot: 40, pages[0].HostAddress, 4096, tag: RegisteredBufferTable.TagMarker | 1);
        Assert.Equal(-Errno.EINVAL, result);
        Assert.Equal(1, binding.GetCounters().KernelErrors);

        DeviceTeardownReport report = binding.TearDown(0);
        Assert.Equal(1, report.Violations);
    }

    [LockedMemoryFact]
    public void After_the_ring_is_closed_an_update_fails_with_EBADF_and_is_counted()
    {
        using var pages = new NativePages(1);
        UringBinding binding = BindUdp();
        var table = (RegisteredBufferTable)binding.GetDmaDevice(0);
        binding.TearDown(0);

        int result = table.UpdateRaw(slot: 0, pages[0].HostAddress, 4096, tag: RegisteredBufferTable.TagMarker | 1);
        Assert.Equal(-Errno.EBADF, result);
        UringCounters counters = binding.GetCounters();
        Assert.Equal(1, counters.KernelErrors);
        Assert.Equal(1, counters.Violations);
    }

    [Fact]
    public void A_table_larger_than_the_kernels_limit_is_refused_before_anything_opens()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new UringDevice(new UringDeviceOptions { Source = UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0)), SlotsPerQueue = 16385 }));
        Assert.Contains("16384", error.Message);
    }

    [Fact]
    public void A_missing_interface_is_refused_in_words()
    {
        var device = new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("no-such-if0") });
        var error = Assert.Throws<DeviceBindException>(() => device.Bind(new DeviceBindContext(1, 4096, 32)));
        Assert.Contains("no-such-if0", error.Message);
    }
}

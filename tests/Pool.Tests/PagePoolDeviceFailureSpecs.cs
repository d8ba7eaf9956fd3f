using Netmem.Pool.Memory;
using Netmem.Pool.Tests.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// What the pool does when the device throws from an unmap or a sync (see <see cref="Dma.IDmaDevice"/>): no leak, no
/// second call for the mapping, the failure counted, and destroy always finishes its walk.
/// </summary>
public sealed class PagePoolDeviceFailureSpecs
{
    [Fact]
    public void An_unmap_that_throws_on_release_is_counted_never_retried_and_the_page_is_still_freed()
    {
        var device = new StrictDevice { FailUnmap = _ => true };
        var host = new HostPageProvider(4096, chunkBytes: 128 * 4096);
        var provider = new StrictProvider(host, device);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, provider, o => o with { PoolSize = 2 });
        List<NetmemRef> pages = Enumerable.Range(0, 20).Select(_ => pool.Allocate()).ToList();

        pages.Take(10).ToList().ForEach(pool.Return);

        PagePoolStats stats = pool.GetStats();
        Assert.Equal(8, stats.RecycleRingFull);
        Assert.Equal(8, stats.DeviceCallFailures);
        Assert.Equal(8, stats.Release);
        Assert.Equal(8, device.UnmapCalls);
        Assert.Equal(pool.Inflight, provider.OutstandingPages);

        PagePoolDestroyReport report = pool.Destroy();
        Assert.Equal(10, report.UnmappedByDestroy);
        Assert.Equal(56, report.DeviceCallFailures);
        PagePoolDestroyRaceSpecs.AssertPartition(report, "throwing unmaps");
        Assert.Equal(0, device.Unbind());
        pages.Skip(10).ToList().ForEach(pool.Return);

        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(64, device.UnmapCalls);
        Assert.Equal(64, pool.GetStats().DeviceCallFailures);
        Assert.Empty(device.Violations);
        Assert.Equal(0, provider.OutstandingPages);
        host.Dispose();
    }

    [Fact]
    public void Destroy_finishes_its_walk_when_unmaps_throw_and_leaves_no_page_mapped()
    {
        var device = new StrictDevice { FailUnmap = call => call % 3 == 0 };
        var host = new HostPageProvider(4096, chunkBytes: 128 * 4096);
        var provider = new StrictProvider(host, device);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, provider);
        NetmemRef[] held = Enumerable.Range(0, 64).Select(_ => pool.Allocate()).ToArray();

        PagePoolDestroyReport report = pool.Destroy();

        Assert.Equal(64, report.UnmappedByDestroy);
        Assert.Equal(21, report.DeviceCallFailures);
        Assert.Equal(0, device.Unbind());
        Assert.All(held, page => Assert.False(pool.TryGetDmaAddress(page, out _)));
        Array.ForEach(held, pool.Return);
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(64, device.UnmapCalls);
        Assert.Empty(device.Violations);
        Assert.Equal(0, provider.OutstandingPages);
        host.Dispose();
    }

    [Fact]
    public void A_sync_for_the_device_that_throws_on_recycle_releases_the_page_instead_of_recycling_it()
    {
        bool failing = false;
        var device = new StrictDevice { FailSyncForDevice = _ => Volatile.Read(ref failing) };
        var host = new HostPageProvider(4096, chunkBytes: 128 * 4096);
        var provider = new StrictProvider(host, device);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, provider, o => o with { SyncForDevice = true });
        List<NetmemRef> pages = Enumerable.Range(0, 10).Select(_ => pool.Allocate()).ToList();

        Volatile.Write(ref failing, true);
        pages.Take(5).ToList().ForEach(pool.Return);

        PagePoolStats stats = pool.GetStats();
        Assert.Equal(5, stats.DeviceCallFailures);
        Assert.Equal(5, stats.Release);
        Assert.Equal(0, stats.RecycleRing);
        Assert.Equal(0, stats.LateReturns);
        Assert.Equal(5, device.UnmapCalls);
        Assert.Equal(pool.Inflight, provider.OutstandingPages);

        pages.Skip(5).ToList().ForEach(pool.Return);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(0, device.Unbind());
        Assert.Empty(device.Violations);
        Assert.Equal(0, provider.OutstandingPages);
        host.Dispose();
    }

    [Fact]
    public void A_sync_for_the_cpu_that_throws_reaches_the_caller_is_counted_and_leaves_the_page_owned_and_mapped()
    {
        var device = new StrictDevice { FailSyncForCpu = _ => true };
        var host = new HostPageProvider(4096, chunkBytes: 128 * 4096);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
        NetmemRef page = pool.Allocate();

        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => pool.SyncForCpu(page, 0, 64));

        Assert.Equal("the device failed to sync for the CPU", thrown.Message);
        Assert.Equal(1, pool.GetStats().DeviceCallFailures);
        Assert.Equal(0, pool.DeviceCallsInFlight);
        Assert.True(pool.TryGetDmaAddress(page, out ulong address));
        Assert.Equal(pool.GetDmaAddress(page), address);
        pool.Return(page);
        Assert.Equal(0, pool.Destroy().DeviceCallFailures);
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Empty(device.Violations);
        host.Dispose();
    }
}

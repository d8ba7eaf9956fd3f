using Netmem.Pool.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolReturnSpecs
{
    [Fact]
    public void A_returned_page_goes_into_the_recycle_ring_and_stays_mapped()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        ulong address = t.Pool.GetDmaAddress(page);

        t.Pool.Return(page);

        PagePoolStats stats = t.Stats;
        Assert.Equal(1, stats.RecycleRing);
        Assert.Equal(0, stats.RecycleCached);
        Assert.Equal(0, stats.Release);
        Assert.True(t.Iommu.IsMapped(address));
        Assert.Equal(0, t.Iommu.UnmapCalls);
        Assert.Empty(t.Pool.GetOutstandingAllocations());
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_return_through_the_handle_reaches_the_pool_that_lent_it()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();

        Assert.Same(t.Pool, page.Pool);
        page.ReturnToPool();

        Assert.Equal(1, t.Stats.RecycleRing);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void When_the_ring_is_full_a_returned_page_is_released_and_unmapped_exactly_once()
    {
        TestPool t = TestPool.Create(o => o with { PoolSize = 4 });
        List<NetmemRef> pages = t.AllocateMany(6);
        ulong[] addresses = pages.Select(t.Pool.GetDmaAddress).ToArray();

        t.ReturnAll(pages);

        PagePoolStats stats = t.Stats;
        Assert.Equal(4, stats.RecycleRing);
        Assert.Equal(2, stats.RecycleRingFull);
        Assert.Equal(2, stats.Release);
        Assert.Equal(62, t.Pool.Inflight);
        Assert.Equal(62, t.Provider.OutstandingPages);
        Assert.Equal(2, t.Iommu.UnmapCalls);
        Assert.All(addresses[..4], a => Assert.True(t.Iommu.IsMapped(a)));
        Assert.All(addresses[4..], a => Assert.False(t.Iommu.IsMapped(a)));
        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(4, report.ReleasedFromRing);
        Assert.Equal(58, report.ReleasedFromCache);
        Assert.Equal(64, t.Iommu.UnmapCalls);
    }

    [Fact]
    public void Each_returning_thread_has_a_ring_of_the_configured_size_of_its_own()
    {
        TestPool t = TestPool.Create(o => o with { PoolSize = 4 });
        List<NetmemRef> pages = t.AllocateMany(12);

        ReturningThreads.AliveTogether(
            () =>
            {
                t.ReturnAll(pages[..6]);
                Assert.Equal(4, t.Stats.RecycleRing);
                Assert.Equal(2, t.Stats.RecycleRingFull);
            },
            () => t.ReturnAll(pages[6..]));

        PagePoolStats stats = t.Stats;
        Assert.Equal(8, stats.RecycleRing);
        Assert.Equal(4, stats.RecycleRingFull);
        Assert.Equal(4, stats.Release);
        Assert.Equal(4, t.Iommu.UnmapCalls);
        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(8, report.ReleasedFromRing);
    }

    [Fact]
    public void The_owner_refills_from_the_ring_of_every_returning_thread_before_bringing_in_new_pages()
    {
        TestPool t = TestPool.Create(o => o with { PoolSize = 64 });
        List<NetmemRef> pages = t.AllocateMany(64);
        Assert.Equal(1, t.Stats.AllocSlow);

        ReturningThreads.AliveTogether([.. Enumerable.Range(0, 4).Select(r => (Action)(() => t.ReturnAll(pages.Skip(r * 16).Take(16))))]);
        List<NetmemRef> again = t.AllocateMany(64);

        PagePoolStats stats = t.Stats;
        Assert.Equal(64, stats.RecycleRing);
        Assert.Equal(1, stats.AllocSlow);
        Assert.Equal(64, stats.Hold);
        Assert.Equal(64, again.Select(page => page.ItemId).Distinct().Count());
        Assert.Equal(pages.Select(page => page.ItemId).Order(), again.Select(page => page.ItemId).Order());
        t.ReturnAll(again);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Pages_left_in_the_ring_of_a_thread_that_has_exited_are_released_by_destroy()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(10);

        ReturningThreads.OnNewThread(() => t.ReturnAll(pages));

        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(10, report.ReleasedFromRing);
        Assert.Equal(54, report.ReleasedFromCache);
        Assert.Equal(0, report.StillInflight);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(64, t.Iommu.UnmapCalls);
    }

    [Fact]
    public void A_thread_whose_first_return_comes_after_destroy_makes_a_late_return_not_a_ring_push()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(2);
        t.Pool.Return(pages[0]);
        t.DestroyAndUnbind();

        ReturningThreads.OnNewThread(() => t.Pool.Return(pages[1]));

        PagePoolStats stats = t.Stats;
        Assert.Equal(1, stats.RecycleRing);
        Assert.Equal(1, stats.LateReturns);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
    }

    [Fact]
    public void A_direct_recycle_into_a_full_cache_goes_to_the_ring()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(192);

        for (int i = 0; i < 128; i++)
        {
            t.Pool.RecycleDirect(pages[i]);
        }

        Assert.Equal(128, t.Stats.RecycleCached);
        Assert.Equal(0, t.Stats.RecycleCacheFull);
        t.Pool.RecycleDirect(pages[128]);

        PagePoolStats stats = t.Stats;
        Assert.Equal(128, stats.RecycleCached);
        Assert.Equal(1, stats.RecycleCacheFull);
        Assert.Equal(1, stats.RecycleRing);
        Assert.Equal(0, stats.Release);
        t.ReturnAll(pages.Skip(129));
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_page_with_an_extra_reference_is_released_on_return_and_its_memory_lives_until_the_reference_goes()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        page.GetSpan().Fill(0xAB);

        PageReference reference = t.Pool.AcquirePageReference(page);
        Assert.Equal(2, t.Provider.GetReferenceCount(reference.PageId));
        t.Pool.Return(page);

        PagePoolStats stats = t.Stats;
        Assert.Equal(1, stats.RecycleReleasedRefcount);
        Assert.Equal(0, stats.RecycleRing);
        Assert.Equal(1, stats.Release);
        Assert.Equal(1, t.Iommu.UnmapCalls);
        Assert.Equal(64, t.Provider.OutstandingPages);
        Assert.Equal(1, t.Provider.GetReferenceCount(reference.PageId));
        Assert.All(reference.GetSpan().ToArray(), b => Assert.Equal(0xAB, b));

        reference.Dispose();
        Assert.Equal(63, t.Provider.OutstandingPages);
        Assert.Equal(0, t.Provider.GetReferenceCount(reference.PageId));
        Assert.Throws<ObjectDisposedException>(() => reference.GetSpan());
        reference.Dispose();
        Assert.Equal(63, t.Provider.OutstandingPages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_page_reference_outliving_the_pool_keeps_its_memory_until_disposed()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        PageReference reference = t.Pool.AcquirePageReference(page);

        t.DestroyAndUnbind();
        t.Pool.Return(page);

        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(1, t.Provider.OutstandingPages);
        reference.Dispose();
        Assert.Equal(0, t.Provider.OutstandingPages);
    }

    [Fact]
    public void With_sync_for_device_every_mapped_and_every_recycled_page_is_synced_through_the_iommu()
    {
        TestPool t = TestPool.Create(o => o with { SyncForDevice = true });
        NetmemRef page = t.Pool.Allocate();
        Assert.Equal(64, t.Iommu.SyncCalls);

        t.Pool.RecycleDirect(page);
        Assert.Equal(65, t.Iommu.SyncCalls);
        page = t.Pool.Allocate();
        t.Pool.Return(page);
        Assert.Equal(66, t.Iommu.SyncCalls);

        t.DestroyAndUnbind();
        Assert.Equal(66, t.Iommu.SyncCalls);
    }

    [Fact]
    public void A_device_that_needs_no_sync_is_never_synced()
    {
        TestPool t = TestPool.Create(o => o with { SyncForDevice = true }, needsSync: false);
        NetmemRef page = t.Pool.Allocate();

        t.Pool.RecycleDirect(page);
        page = t.Pool.Allocate();

        Assert.True(t.Pool.SyncForCpu(page, 0, 4096));
        Assert.Equal(0, t.Iommu.SyncCalls);
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Sync_for_cpu_reaches_the_iommu_for_an_owned_mapped_page_and_checks_its_range()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();

        Assert.True(t.Pool.SyncForCpu(page, 128, 1500));
        Assert.True(t.Pool.SyncForCpu(page, 0, 4096));
        Assert.Equal(2, t.Iommu.SyncCalls);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Pool.SyncForCpu(page, 4000, 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Pool.SyncForCpu(page, -1, 10));
        Assert.Equal(2, t.Iommu.SyncCalls);
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void After_destroy_sync_for_cpu_on_a_held_page_makes_no_device_call_and_says_so()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        t.DestroyAndUnbind();

        Assert.False(t.Pool.SyncForCpu(page, 0, 64));

        Assert.Equal(0, t.Iommu.SyncCalls);
        Assert.Empty(t.Iommu.Violations);
        t.Pool.Return(page);
    }

    [Fact]
    public void The_device_writes_into_a_mapped_page_and_the_cpu_reads_it_through_the_span()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        byte[] frame = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();

        Assert.True(t.Iommu.DmaWrite(t.Pool.GetDmaAddress(page), 100, frame));
        Assert.True(t.Pool.SyncForCpu(page, 100, frame.Length));

        Assert.Equal(frame, page.GetSpan().Slice(100, 64).ToArray());
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Returns_after_destroy_are_late_returns_that_free_the_page_without_a_device_call()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(3);
        t.DestroyAndUnbind();
        long unmaps = t.Iommu.UnmapCalls;

        t.Pool.Return(pages[0]);
        t.Pool.RecycleDirect(pages[1]);

        Assert.Equal(2, t.Stats.LateReturns);
        Assert.Equal(1, t.Pool.Inflight);
        Assert.Equal(1, t.Provider.OutstandingPages);
        Assert.Equal(PagePoolState.Detached, t.Pool.State);
        t.Pool.Return(pages[2]);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(unmaps, t.Iommu.UnmapCalls);
        Assert.Empty(t.Iommu.Violations);
    }
}

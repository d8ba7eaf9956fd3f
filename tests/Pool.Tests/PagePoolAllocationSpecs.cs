using System.Runtime.CompilerServices;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Tests.Dma;
using Netmem.Pool.Tests.Memory;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolAllocationSpecs
{
    [Fact]
    public void The_first_allocation_brings_in_a_bulk_of_64_mapped_pages_from_the_provider()
    {
        TestPool t = TestPool.Create();

        NetmemRef page = t.Pool.Allocate();

        PagePoolStats stats = t.Stats;
        Assert.Equal(1, stats.AllocSlow);
        Assert.Equal(1, stats.AllocEmpty);
        Assert.Equal(0, stats.AllocFast);
        Assert.Equal(64, stats.Hold);
        Assert.Equal(0, stats.Release);
        Assert.Equal(64, t.Pool.Inflight);
        Assert.Equal(64, t.Iommu.MapCalls);
        Assert.Equal(64, t.Iommu.LiveMappingCount);
        Assert.Equal(64, t.Provider.OutstandingPages);
        Assert.True(t.Iommu.IsMapped(t.Pool.GetDmaAddress(page)));
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void The_next_63_allocations_are_served_from_the_alloc_cache_and_the_64th_goes_slow_again()
    {
        TestPool t = TestPool.Create();

        List<NetmemRef> pages = t.AllocateMany(64);
        Assert.Equal(63, t.Stats.AllocFast);
        Assert.Equal(1, t.Stats.AllocSlow);
        Assert.Equal(64, t.Iommu.MapCalls);

        pages.Add(t.Pool.Allocate());
        Assert.Equal(2, t.Stats.AllocSlow);
        Assert.Equal(2, t.Stats.AllocEmpty);
        Assert.Equal(128, t.Stats.Hold);
        Assert.Equal(128, t.Iommu.MapCalls);
        Assert.Equal(65, pages.Select(p => p.ItemId).Distinct().Count());
        t.ReturnAll(pages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_page_recycled_directly_is_reused_from_the_cache_under_a_new_generation()
    {
        TestPool t = TestPool.Create();
        NetmemRef first = t.Pool.Allocate();

        t.Pool.RecycleDirect(first);
        NetmemRef second = t.Pool.Allocate();

        Assert.Equal(first.ItemId, second.ItemId);
        Assert.Equal(first.Generation + 1, second.Generation);
        Assert.NotEqual(first, second);
        PagePoolStats stats = t.Stats;
        Assert.Equal(1, stats.RecycleCached);
        Assert.Equal(1, stats.AllocFast);
        Assert.Equal(1, stats.AllocSlow);
        Assert.Equal(0, stats.RecycleRing);
        Assert.Equal(64, stats.Hold);
        Assert.Equal(64, t.Iommu.MapCalls);
        t.Pool.Return(second);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Pages_returned_to_the_ring_refill_the_cache_64_at_a_time_without_new_mappings()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(128);
        t.ReturnAll(pages);
        Assert.Equal(128, t.Stats.RecycleRing);

        List<NetmemRef> again = t.AllocateMany(64);
        Assert.Equal(1, t.Stats.AllocRefill);
        again.Add(t.Pool.Allocate());

        PagePoolStats stats = t.Stats;
        Assert.Equal(2, stats.AllocRefill);
        Assert.Equal(2, stats.AllocSlow);
        Assert.Equal(126 + 63, stats.AllocFast);
        Assert.Equal(128, stats.Hold);
        Assert.Equal(128, t.Iommu.MapCalls);
        Assert.Equal(0, stats.Release);
        Assert.Empty(again.Select(p => p.ItemId).Except(pages.Select(p => p.ItemId)));
        t.ReturnAll(again);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void After_the_preferred_node_changes_a_refill_waives_pages_of_the_old_node()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(64);
        t.ReturnAll(pages);

        t.Pool.UpdatePreferredNode(1);
        NetmemRef page = t.Pool.Allocate();

        PagePoolStats stats = t.Stats;
        Assert.Equal(64, stats.AllocWaive);
        Assert.Equal(0, stats.AllocRefill);
        Assert.Equal(1, stats.AllocEmpty);
        Assert.Equal(2, stats.AllocSlow);
        Assert.Equal(64, stats.Release);
        Assert.Equal(128, stats.Hold);
        Assert.Equal(64, t.Iommu.UnmapCalls);
        Assert.Equal(64, t.Provider.OutstandingPages);
        Assert.Equal(64, t.Pool.Inflight);
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void After_the_preferred_node_changes_and_changes_back_a_refill_waives_the_pages_of_the_node_in_between()
    {
        TestPool t = TestPool.Create();
        t.ReturnAll(t.AllocateMany(64));
        t.Pool.UpdatePreferredNode(1);
        t.ReturnAll(t.AllocateMany(64));

        t.Pool.UpdatePreferredNode(0);
        NetmemRef page = t.Pool.Allocate();

        PagePoolStats stats = t.Stats;
        Assert.Equal(128, stats.AllocWaive);
        Assert.Equal(128, stats.Release);
        Assert.Equal(192, stats.Hold);
        Assert.Equal(64, t.Provider.OutstandingPages);
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_negative_preferred_node_is_refused()
    {
        TestPool t = TestPool.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Pool.UpdatePreferredNode(-1));
    }

    [Fact]
    public void A_map_failure_throws_the_device_error_and_leaves_the_accounting_unchanged()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(64);
        PagePoolStats before = t.Stats;
        t.Iommu.MapFailureInjector = _ => true;

        Assert.Throws<DmaMapException>(() => t.Pool.Allocate());

        PagePoolStats after = t.Stats;
        Assert.Equal(before.Hold, after.Hold);
        Assert.Equal(before.Release, after.Release);
        Assert.Equal(64, t.Pool.Inflight);
        Assert.Equal(1, after.MapFailures);
        Assert.Equal(64, t.Provider.OutstandingPages);
        Assert.Equal(64, t.Iommu.LiveMappingCount);
        Assert.Equal(64, t.Pool.GetOutstandingAllocations().Count);

        t.Iommu.MapFailureInjector = null;
        pages.Add(t.Pool.Allocate());
        Assert.Equal(128, t.Stats.Hold);
        t.ReturnAll(pages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_map_failure_part_way_through_a_bulk_keeps_the_pages_mapped_so_far()
    {
        TestPool t = TestPool.Create();
        t.Iommu.MapFailureInjector = operation => operation >= 10;

        List<NetmemRef> pages = t.AllocateMany(10);

        Assert.Equal(10, t.Stats.Hold);
        Assert.Equal(1, t.Stats.MapFailures);
        Assert.Equal(10, t.Provider.OutstandingPages);
        Assert.Throws<DmaMapException>(() => t.Pool.Allocate());
        Assert.Equal(10, t.Stats.Hold);
        Assert.Equal(10, t.Provider.OutstandingPages);
        t.ReturnAll(pages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_provider_failure_throws_MemoryProviderExhausted_and_leaves_the_accounting_unchanged()
    {
        TestPool t = TestPool.Create();
        t.Provider.AllocationFailureInjector = _ => true;

        Assert.Throws<MemoryProviderExhaustedException>(() => t.Pool.Allocate());

        PagePoolStats stats = t.Stats;
        Assert.Equal(0, stats.Hold);
        Assert.Equal(0, stats.Release);
        Assert.Equal(1, stats.ProviderFailures);
        Assert.Equal(0, t.Iommu.MapCalls);
        Assert.Equal(0, t.Provider.OutstandingPages);
        Assert.Empty(t.Pool.GetOutstandingAllocations());

        t.Provider.AllocationFailureInjector = null;
        t.Pool.Return(t.Pool.Allocate());
        Assert.Equal(64, t.Stats.Hold);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_provider_that_cannot_give_a_page_s_host_address_fails_the_allocation_with_its_error_and_takes_nothing()
    {
        using var inner = new HostPageProvider(4096);
        var pool = new PagePool(new PagePoolOptions { MemoryProvider = new UnaddressableProvider(inner) });

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => pool.Allocate());

        Assert.Contains("has no host address", error.Message);
        Assert.Equal(0, inner.OutstandingPages);
        Assert.Equal(0, pool.GetStats().Hold);
        Assert.Equal(0, pool.Inflight);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
    }

    [Fact]
    public void Every_lent_page_and_fragment_spans_the_memory_the_provider_gives_for_its_page()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(300);
        t.Pool.RecycleDirect(pages[0]);
        pages[0] = t.Pool.Allocate();

        foreach (NetmemRef page in pages)
        {
            using PageReference reference = t.Pool.AcquirePageReference(page);
            Span<byte> span = page.GetSpan();
            Assert.True(Unsafe.AreSame(ref reference.GetSpan()[0], ref span[0]), $"{page} spans other memory than its page {reference.PageId}");
            Assert.Equal(4096, span.Length);
        }

        NetmemFragment fragment = t.Pool.AllocateFragment(1024);
        NetmemFragment next = t.Pool.AllocateFragment(1024);
        using (PageReference carved = t.Pool.AcquirePageReference(next.Page))
        {
            Assert.True(Unsafe.AreSame(ref carved.GetSpan()[next.Offset], ref next.GetSpan()[0]));
        }

        t.Pool.ReturnFragment(fragment);
        t.Pool.ReturnFragment(next);
        t.ReturnAll(pages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_provider_smaller_than_a_bulk_lends_what_it_has_and_then_refuses()
    {
        TestPool t = TestPool.Create(maxPages: 3);

        List<NetmemRef> pages = t.AllocateMany(3);
        Assert.Equal(3, t.Stats.Hold);
        Assert.Equal(1, t.Stats.ProviderFailures);
        Assert.Equal(3, t.Iommu.MapCalls);

        Assert.Throws<MemoryProviderExhaustedException>(() => t.Pool.Allocate());
        Assert.Equal(3, t.Stats.Hold);
        Assert.Equal(3, t.Pool.Inflight);
        Assert.Equal(3, t.Iommu.MapCalls);

        t.Pool.RecycleDirect(pages[0]);
        pages[0] = t.Pool.Allocate();
        t.ReturnAll(pages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Inflight_is_unlimited_every_page_is_tracked_in_added_item_blocks_and_destroy_unmaps_them_all()
    {
        TestPool t = TestPool.Create();

        List<NetmemRef> pages = t.AllocateMany(5000);

        Assert.Equal(5000, pages.Select(p => p.ItemId).Distinct().Count());
        Assert.True(pages.Select(p => p.BlockIndex).Distinct().Count() >= 20);
        Assert.Equal(5000, t.Pool.GetOutstandingAllocations().Count);
        Assert.Equal(5056, t.Stats.Hold);
        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(5000, report.UnmappedByDestroy);
        Assert.Equal(56, report.ReleasedFromCache);
        Assert.Equal(0, report.StillInflight);
        Assert.Equal(5000, report.HeldAtReport);
        Assert.Equal(5056, t.Iommu.UnmapCalls);

        t.ReturnAll(pages);
        Assert.Equal(5000, t.Stats.LateReturns);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(0, t.Provider.OutstandingPages);
        Assert.Equal(5056, t.Iommu.UnmapCalls);
    }

    [Fact]
    public void A_pool_without_a_device_lends_pages_without_mapping_them()
    {
        var provider = new HostPageProvider(4096);
        var pool = new PagePool(new PagePoolOptions { MemoryProvider = provider });

        NetmemRef page = pool.Allocate();
        page.GetSpan().Fill(0x5A);

        Assert.Throws<Netmem.Pool.Dma.PageNotMappedException>(() => pool.GetDmaAddress(page));
        Assert.False(pool.TryGetDmaAddress(page, out _));
        Assert.True(pool.SyncForCpu(page, 0, 64));
        pool.Return(page);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(0, provider.OutstandingPages);
    }

    [Fact]
    public void Without_inflight_tracking_pages_still_allocate_return_and_recycle()
    {
        TestPool t = TestPool.Create(o => o with { TrackInflight = false });

        List<NetmemRef> pages = t.AllocateMany(64);
        pages[0].GetSpan()[0] = 1;
        t.ReturnAll(pages);
        NetmemRef again = t.Pool.Allocate();
        t.Pool.RecycleDirect(again);
        again = t.Pool.Allocate();

        PagePoolStats stats = t.Stats;
        Assert.Equal(64, stats.RecycleRing);
        Assert.Equal(1, stats.AllocRefill);
        Assert.Equal(1, stats.RecycleCached);
        Assert.Equal(64, stats.Hold);
        Assert.Empty(t.Pool.GetOutstandingAllocations());
        t.Pool.Return(again);
        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(64, report.ReleasedFromRing + report.ReleasedFromCache);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(0, t.Provider.OutstandingPages);
    }

    [Fact]
    public void Without_inflight_tracking_destroy_cannot_find_held_pages_so_their_mappings_leak_as_documented()
    {
        TestPool t = TestPool.Create(o => o with { TrackInflight = false });
        NetmemRef held = t.Pool.Allocate();

        PagePoolDestroyReport report = t.Pool.Destroy();

        Assert.Equal(0, report.UnmappedByDestroy);
        Assert.Equal(1, t.Iommu.Unbind());
        Assert.Equal(1, t.Iommu.CountOf(IommuViolationKind.MappingLeakedAtUnbind));
        t.Pool.Return(held);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
    }

    [Fact]
    public void A_first_sync_that_fails_undoes_its_mapping_and_changes_no_accounting()
    {
        var iommu = new IommuModel("sync-fails");
        var device = new SyncFailingDevice(iommu);
        var pool = new PagePool(new PagePoolOptions { Device = device, SyncForDevice = true });

        Assert.Throws<InvalidOperationException>(() => pool.Allocate());

        Assert.Equal(1, iommu.MapCalls);
        Assert.Equal(1, iommu.UnmapCalls);
        Assert.Equal(0, iommu.LiveMappingCount);
        Assert.Equal(0, pool.GetStats().Hold);
        Assert.Equal(1, pool.GetStats().MapFailures);
        pool.Destroy();
        Assert.Equal(0, iommu.Unbind());
        Assert.Empty(iommu.Violations);
    }
}

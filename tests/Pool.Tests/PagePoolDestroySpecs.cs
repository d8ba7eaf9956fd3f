using System.Runtime.CompilerServices;
using Netmem.Pool.Memory;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolDestroySpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CoarseClockTolerance = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void Destroy_releases_cache_and_ring_unmaps_held_pages_and_reports_each_figure()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(10);
        t.ReturnAll(pages.Take(4));
        List<NetmemRef> held = pages.Skip(4).ToList();

        PagePoolDestroyReport report = t.DestroyAndUnbind();

        Assert.Equal(t.Pool.Id, report.PoolId);
        Assert.Equal(64, report.InflightAtDestroy);
        Assert.Equal(54, report.ReleasedFromCache);
        Assert.Equal(4, report.ReleasedFromRing);
        Assert.Equal(6, report.UnmappedByDestroy);
        Assert.Equal(0, report.StillInflight);
        Assert.Equal(0, report.RevokedWithDomain);
        Assert.Equal(6, report.HeldAtReport);
        Assert.True(report.Duration >= TimeSpan.Zero);
        Assert.Equal(held.Select(h => h.Value).Order(), report.Outstanding.Select(o => o.Netmem.Value).Order());
        Assert.All(report.Outstanding, o => Assert.Null(o.AllocationSite));
        Assert.Equal(PagePoolState.Detached, t.Pool.State);
        Assert.Equal(64, t.Iommu.UnmapCalls);

        PagePoolStats stats = t.Stats;
        Assert.Equal(64, stats.InflightAtDestroy);
        Assert.Equal(6, stats.UnmappedByDestroy);
        Assert.Equal(report.DetachTime, stats.DetachTime);
        t.ReturnAll(held);
        Assert.Equal(6, t.Stats.LateReturns);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(64, t.Iommu.UnmapCalls);
    }

    [Fact]
    public void A_pool_with_nothing_held_is_released_by_destroy_itself()
    {
        TestPool t = TestPool.Create();
        t.Pool.Return(t.Pool.Allocate());

        PagePoolDestroyReport report = t.DestroyAndUnbind();

        Assert.Equal(0, report.StillInflight);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(0, t.Provider.OutstandingPages);
        Assert.Null(PagePoolRegistry.Find(t.Pool.Id));
    }

    [Fact]
    public void Introspection_shows_inflight_bytes_and_no_detach_time_while_active()
    {
        TestPool t = TestPool.Create(o => o with { Name = "rx-7", QueueIndex = 7 });
        NetmemRef page = t.Pool.Allocate();

        PagePoolInfo info = t.Pool.GetInfo();

        Assert.Equal(t.Pool.Id, info.Id);
        Assert.Equal("rx-7", info.Name);
        Assert.Equal("test-device", info.Device);
        Assert.Equal(7, info.QueueIndex);
        Assert.Equal(PagePoolState.Active, info.State);
        Assert.Equal(64, info.Inflight);
        Assert.Equal(64 * 4096, info.InflightBytes);
        Assert.Null(info.DetachTime);
        Assert.Null(info.StalledFor);
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_detached_pool_stays_listed_and_shows_as_stalled_until_its_last_page_is_back()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        Assert.Same(t.Pool, PagePoolRegistry.Find(t.Pool.Id));

        PagePoolDestroyReport report = t.DestroyAndUnbind();

        PagePoolInfo info = t.Pool.GetInfo();
        Assert.Equal(PagePoolState.Detached, info.State);
        Assert.Equal(1, info.Inflight);
        Assert.Equal(4096, info.InflightBytes);
        Assert.Equal(report.DetachTime, info.DetachTime);
        Assert.NotNull(info.StalledFor);
        Assert.True(info.StalledFor >= TimeSpan.Zero);
        Assert.Contains(PagePoolRegistry.Pools, p => p.Id == t.Pool.Id);
        Assert.Contains(PagePoolRegistry.FindStalled(TimeSpan.Zero), i => i.Id == t.Pool.Id);
        Assert.DoesNotContain(PagePoolRegistry.FindStalled(TimeSpan.FromDays(1)), i => i.Id == t.Pool.Id);

        t.Pool.Return(held);

        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Null(t.Pool.GetInfo().StalledFor);
        Assert.Null(PagePoolRegistry.Find(t.Pool.Id));
        Assert.DoesNotContain(PagePoolRegistry.Pools, p => p.Id == t.Pool.Id);
        Assert.DoesNotContain(PagePoolRegistry.FindStalled(TimeSpan.Zero), i => i.Id == t.Pool.Id);
    }

    [Fact]
    public async Task Waiting_for_release_times_out_while_a_page_is_held_and_succeeds_once_it_is_back()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        t.DestroyAndUnbind();

        Assert.False(await t.Pool.WaitForReleaseAsync(TimeSpan.FromMilliseconds(50)));

        Task<bool> waiting = t.Pool.WaitForReleaseAsync(Patience);
        Assert.False(waiting.IsCompleted);
        t.Pool.Return(held);
        Assert.True(await waiting);
        Assert.True(await t.Pool.WaitForReleaseAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Waiting_for_release_honours_cancellation()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        t.DestroyAndUnbind();
        using var cancellation = new CancellationTokenSource();

        Task<bool> waiting = t.Pool.WaitForReleaseAsync(Patience, cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        t.Pool.Return(held);
    }

    [Fact]
    public async Task A_pool_stuck_with_a_held_page_reports_its_stall_through_the_callback()
    {
        var stalled = new TaskCompletionSource<PagePoolInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        TestPool t = TestPool.Create(o => o with
        {
            StallWarningAfter = TimeSpan.FromMilliseconds(20),
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(5),
            OnStalled = info => stalled.TrySetResult(info),
        });
        NetmemRef held = t.Pool.Allocate();
        t.DestroyAndUnbind();

        PagePoolInfo info = await stalled.Task.WaitAsync(Patience);

        Assert.Equal(t.Pool.Id, info.Id);
        Assert.Equal(PagePoolState.Detached, info.State);
        Assert.Equal(1, info.Inflight);
        // The stall schedule runs on Environment.TickCount64, a coarse clock (a few ms on Linux), StalledFor on UtcNow.
        Assert.True(info.StalledFor >= TimeSpan.FromMilliseconds(20) - CoarseClockTolerance, $"stalled for {info.StalledFor}");
        t.Pool.Return(held);
        Assert.True(await t.Pool.WaitForReleaseAsync(Patience));
    }

    [Fact]
    public async Task A_released_pool_reports_no_stall()
    {
        var stalls = 0;
        TestPool t = TestPool.Create(o => o with
        {
            StallWarningAfter = TimeSpan.FromMilliseconds(1),
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(1),
            OnStalled = _ => Interlocked.Increment(ref stalls),
        });
        t.Pool.Return(t.Pool.Allocate());

        t.DestroyAndUnbind();

        Assert.True(await t.Pool.WaitForReleaseAsync(TimeSpan.Zero));
        Assert.Equal(0, Volatile.Read(ref stalls));
    }

    [Fact]
    public void Paranoid_leak_detection_captures_where_each_outstanding_page_was_allocated()
    {
        TestPool t = TestPool.Create(o => o with { LeakDetection = LeakDetectionMode.Paranoid });
        NetmemRef leaked = AllocateFromALeakyCaller(t.Pool);
        NetmemRef returned = t.Pool.Allocate();
        t.Pool.Return(returned);

        OutstandingAllocation outstanding = Assert.Single(t.Pool.GetOutstandingAllocations());
        Assert.Equal(leaked, outstanding.Netmem);
        Assert.Contains(nameof(AllocateFromALeakyCaller), outstanding.AllocationSite);

        PagePoolDestroyReport report = t.DestroyAndUnbind();
        OutstandingAllocation reported = Assert.Single(report.Outstanding);
        Assert.Equal(leaked, reported.Netmem);
        Assert.Contains(nameof(AllocateFromALeakyCaller), reported.AllocationSite);
        t.Pool.Return(leaked);
    }

    [Fact]
    public void Without_leak_detection_outstanding_pages_are_listed_without_a_site()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = AllocateFromALeakyCaller(t.Pool);

        OutstandingAllocation outstanding = Assert.Single(t.Pool.GetOutstandingAllocations());

        Assert.Equal(held, outstanding.Netmem);
        Assert.Null(outstanding.AllocationSite);
        t.Pool.Return(held);
        t.DestroyAndUnbind();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NetmemRef AllocateFromALeakyCaller(PagePool pool) => pool.Allocate();

    [Fact]
    public void A_page_reference_that_outlives_its_pool_keeps_the_pools_own_memory_until_it_is_dropped()
    {
        var pool = new PagePool(new PagePoolOptions());
        var memory = (HostPageProvider)pool.MemoryProvider;
        NetmemRef page = pool.Allocate();
        PageReference reference = pool.AcquirePageReference(page);
        pool.Destroy();
        pool.Return(page);
        Assert.Equal(PagePoolState.Released, pool.State);

        reference.GetSpan()[0] = 42;
        Assert.Equal(1, memory.OutstandingPages);
        reference.Dispose();

        Assert.Equal(0, memory.OutstandingPages);
        Assert.Throws<ObjectDisposedException>(() => memory.TryAllocatePage(out _));
    }
}

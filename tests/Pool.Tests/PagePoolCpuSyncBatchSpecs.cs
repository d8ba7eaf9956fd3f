using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Netmem.Pool.Tests.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary><see cref="PagePool.SyncForCpu{TRange}(ReadOnlySpan{TRange})"/>: a poll's syncs under one admission to the device gate.</summary>
public sealed class PagePoolCpuSyncBatchSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_batch_syncs_every_range_of_its_owned_mapped_pages()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(8);
        Range[] ranges = pages.Select((page, i) => new Range(page, 64 * i, 64 + i)).ToArray();

        Assert.Equal(8, t.Pool.SyncForCpu<Range>(ranges));

        Assert.Equal(8, t.Iommu.SyncCalls);
        Assert.Equal(0, t.Pool.DeviceCallsInFlight);
        t.ReturnAll(pages);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_device_that_needs_no_sync_is_never_synced_but_every_range_is_still_checked()
    {
        TestPool t = TestPool.Create(needsSync: false);
        NetmemRef page = t.Pool.Allocate();

        Assert.Equal(2, t.Pool.SyncForCpu<Range>([new(page, 0, 64), new(page, 64, 64)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Pool.SyncForCpu<Range>([new(page, 0, 64), new(page, 4000, 200)]));

        Assert.Equal(0, t.Iommu.SyncCalls);
        t.Pool.Return(page);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_range_outside_its_page_or_a_page_not_lent_throws_after_the_ranges_before_it_and_leaves_the_gate()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        NetmemRef returned = t.Pool.Allocate();
        t.Pool.Return(returned);

        Assert.Throws<ArgumentOutOfRangeException>(() => t.Pool.SyncForCpu<Range>([new(held, 0, 64), new(held, 4000, 200), new(held, 0, 64)]));
        Assert.Equal(1, t.Iommu.SyncCalls);
        Assert.ThrowsAny<NetmemMisuseException>(() => t.Pool.SyncForCpu<Range>([new(held, 0, 64), new(returned, 0, 64)]));
        Assert.Equal(2, t.Iommu.SyncCalls);
        Assert.ThrowsAny<NetmemMisuseException>(() => t.Pool.SyncForCpu<Range>([new(default, 0, 64)]));

        Assert.Equal(0, t.Pool.DeviceCallsInFlight);
        Assert.Equal(0, t.Stats.DeviceCallFailures);
        t.Pool.Return(held);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_device_failure_mid_batch_is_counted_reaches_the_caller_and_leaves_the_gate()
    {
        // The device numbers its unmaps and syncs (not its maps): the second sync of the batch fails.
        var device = new StrictDevice { FailSyncForCpu = call => call == 2 };
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
        NetmemRef[] pages = [pool.Allocate(), pool.Allocate(), pool.Allocate()];

        Assert.Throws<InvalidOperationException>(() => pool.SyncForCpu<Range>(pages.Select(p => new Range(p, 0, 64)).ToArray()));

        Assert.Equal(1, pool.GetStats().DeviceCallFailures);
        Assert.Equal(0, pool.DeviceCallsInFlight);
        Assert.True(pool.TryGetDmaAddress(pages[0], out _), "the pages stay owned and mapped");
        Array.ForEach(pages, pool.Return);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Empty(device.Violations);
        host.Dispose();
    }

    [Fact]
    public void After_destroy_a_batch_makes_no_device_call_and_says_so()
    {
        TestPool t = TestPool.Create();
        List<NetmemRef> pages = t.AllocateMany(4);
        t.DestroyAndUnbind();

        Assert.Equal(0, t.Pool.SyncForCpu<Range>(pages.Select(p => new Range(p, 0, 64)).ToArray()));

        Assert.Equal(0, t.Iommu.SyncCalls);
        Assert.Empty(t.Iommu.Violations);
        t.ReturnAll(pages);
    }

    /// <summary>
    /// A batch is admitted and parked in its first sync; access is revoked meanwhile. Fails if the batch, once let go,
    /// goes on to sync its other pages: after a revocation an admitted thread may start no more than the one call it
    /// was already on its way to, as with single syncs.
    /// </summary>
    [Fact]
    public async Task A_batch_admitted_before_a_revocation_starts_no_further_device_call_after_it()
    {
        using var parking = new ManualResetEventSlim(false);
        var device = new StrictDevice { ParkCpuSyncs = parking };
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
        NetmemRef[] pages = Enumerable.Range(0, 8).Select(_ => pool.Allocate()).ToArray();
        Range[] ranges = pages.Select(p => new Range(p, 0, 64)).ToArray();

        Task<int> syncing = Task.Factory.StartNew(() => pool.SyncForCpu<Range>(ranges), TaskCreationOptions.LongRunning);
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref device.ParkedCalls) == 1, Patience));
        Assert.Equal(1, pool.DeviceCallsInFlight);
        pool.RevokeDeviceAccess();
        device.NoteRevoked();
        parking.Set();

        Assert.Equal(1, await syncing.WaitAsync(Patience));
        Assert.Equal(0, device.CallsStartedAfterRevoke);
        Assert.Equal(0, pool.DeviceCallsInFlight);
        pool.Destroy();
        Array.ForEach(pages, pool.Return);
        device.Unbind();
        pool.ReleaseAfterDomainTeardown();
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Empty(device.Violations);
        host.Dispose();
    }

    /// <summary>
    /// Holders keep syncing their pages in batches while destroy runs, and the device is unbound the instant destroy
    /// returns. Fails if a batch's later syncs escape the admission (a sync under the walk's unmap, or after destroy
    /// returned).
    /// </summary>
    [Fact]
    public void Batches_of_cpu_syncs_racing_destroy_never_overlap_the_walk_and_never_outlive_destroy()
    {
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        for (int round = 0; round < 60; round++)
        {
            var device = new StrictDevice { SyncSpin = 4000, UnmapSpin = 200 };
            PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
            NetmemRef[] held = Enumerable.Range(0, 16).Select(_ => pool.Allocate()).ToArray();
            int stop = 0;
            long batches = 0;
            Thread[] holders = Enumerable.Range(0, 2).Select(h => new Thread(() =>
            {
                Range[] mine = held.Where((_, i) => i % 2 == h).Select(p => new Range(p, 0, 256)).ToArray();
                while (Volatile.Read(ref stop) == 0)
                {
                    pool.SyncForCpu<Range>(mine);
                    Interlocked.Increment(ref batches);
                }
            })).ToArray();
            Array.ForEach(holders, t => t.Start());
            Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref batches) > 1 + (round % 4), Patience));

            PagePoolDestroyReport report = pool.Destroy();
            device.Unbind();
            Volatile.Write(ref stop, 1);
            Array.ForEach(holders, t => t.Join());

            string where = $"round {round}: {string.Join("; ", device.Violations.Take(3))}";
            Assert.True(device.Violations.Count == 0, where);
            Assert.Equal(16, report.UnmappedByDestroy);
            Array.ForEach(held, pool.Return);
            Assert.Equal(PagePoolState.Released, pool.State);
        }

        host.Dispose();
    }

    private readonly record struct Range(NetmemRef Netmem, int Offset, int Length) : ICpuSyncRange;
}

using System.Diagnostics;
using Netmem.Pool.Core;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;

namespace Netmem.Pool;

// Destroy, exactly once: the design.
//
// Intent. When a driver unbinds, pages it lent are still held up the stack. They were mapped for the device, and
// the device (its IOMMU domain) is about to go. Destroy must therefore unmap every page that is still mapped while
// the device is still bound, each exactly once, even though any of those pages may be returned by another thread
// at the very moment destroy reaches it; and once destroy has returned, the pool must never call the device again.
// Pages that come back later are freed without a device call. This is the seed's item-block fix; the mechanism
// that makes it race-free differs, because .NET has no RCU.
//
// The pieces.
//   * The unmap claim. Each page's PageMetadata.Mapped is 1 while it is mapped. Whoever swaps it 1 → 0 makes the
//     unmap call; nobody else does. This is the merged kernel fix's xa_cmpxchg on the tracking entry.
//   * The device gate (DeviceAccessGate). Every device call (map on the slow path, unmap on release, sync on
//     recycle or for the CPU) happens inside the gate. Destroy closes the gate and waits for the threads already
//     inside to leave: the equivalent of rcu_read_lock around the DMA call plus synchronize_net in destroy.
//   * The item blocks. Every page the pool ever brought in is tracked by an item in one of the pool's blocks, so a
//     walk of the blocks finds every mapped page, wherever it is held.
//
// The sequence.
//   1. State Active → Destroying (compare-and-swap: a second destroy is refused). From here no allocation succeeds,
//      and every return releases its page instead of recycling it. If the owner is still inside an allocation or a
//      direct recycle (a driver that hung past its quiesce timeout), wait for it to leave (OwnerSection): from then
//      on the owner never touches its cache, ring or fragment page again, so destroy may drain them.
//   2. Release the alloc cache, the page being carved into fragments (if its slices are all back) and the ring.
//      The gate is still open, so these releases unmap normally through the claim.
//   3. Close the gate and wait for it to empty.
//   4. Walk every block and claim-and-unmap every page still mapped.
//   5. Publish "scan complete", release pages that slipped into the ring meanwhile, state → Detached, report.
//
// Why it holds (numbers as in DESIGN.md §3).
//   (1) Every map is matched by exactly one unmap. A map happens inside the gate and publishes Mapped = 1 before it
//       leaves, so after step 3 every successful map is visible to the walk. Unmaps happen only after winning the
//       claim, and the claim goes 1 → 0 once per mapping. A releaser that finds the gate closed does not touch
//       the claim at all, so it cannot take a claim and then not unmap; the walk does it.
//   (2) After destroy returns, no device call is made or running. Calls already inside the gate ended in step 3;
//       new entrants see the gate closed and make no call; the walk's own calls finish before step 5.
//   (3) Every page is accounted. Hold is counted once when a page is brought in (owner only); release is counted
//       once when a page leaves, by the single thread that owns it at that point (the return CAS in ItemState makes
//       that thread unique). Inflight = hold − release ≥ 0, and it reaches 0 only when every page has left.
//   (4) Nothing touches the pool's resources after the release that might be its last. A releaser's last write is
//       its release-count increment; after it, it only reads the state to decide whether to try completing. The
//       completion (blocks handed back to the table, provider disposed) runs once, under a compare-and-swap, only
//       when release == hold after Detached, i.e. when no other thread still owns a page of this pool.
//   (5) State bits never share a word with non-atomic fields: item lifecycle and generation are alone in their
//       word; the claim is its own word; see ItemState.
//
// Late returners that find the gate closed before the walk has passed their page must not free its memory while
// it is still mapped: they wait for "scan complete" (bounded by the walk, which never waits for them). A page
// pushed into the ring by a returner that checked the state just before step 1 is caught by step 5's drain or by
// the release-retry timer (the kernel's release_dw), which keeps draining until inflight reaches 0.
public sealed partial class PagePool
{
    private PagePoolDestroyReport? _destroyReport;
    private Timer? _releaseRetryTimer;
    private bool _walkComplete;
    private int _retryBusy;
    private long _nextStallReportTicks;

    /// <summary>
    /// Destroys the pool, normally after the owner has stopped allocating (an owner still running is waited out of
    /// its current operation and refused from then on): releases the cache and ring, unmaps every page still held
    /// elsewhere, and returns a report. When it returns, no device call for this pool is made or running, so the
    /// device may be unbound. The pool lives on until its last page is back.
    /// </summary>
    /// <exception cref="PoolAlreadyDestroyedException">The pool was already destroyed.</exception>
    public PagePoolDestroyReport Destroy()
    {
        if (Interlocked.CompareExchange(ref _state, (int)PagePoolState.Destroying, (int)PagePoolState.Active) != (int)PagePoolState.Active)
        {
            throw new PoolAlreadyDestroyedException($"{Name} (id {Id}) was already destroyed.");
        }

        long started = Stopwatch.GetTimestamp();
        _ownerSection.WaitForOwnerToLeave();
        long inflightAtDestroy = Inflight;
        long fromCache = ReleaseFragmentPageIfUnused() + ReleaseAllocCache();
        long fromRing = ReleaseRing();

        _deviceGate.CloseAndWait();
        long unmapped;
        try
        {
            unmapped = _tracking && _device is not null ? UnmapPagesStillMapped() : 0;
        }
        finally
        {
            // Late releasers wait for this flag; a device that throws from Unmap must not leave them spinning.
            Volatile.Write(ref _walkComplete, true);
        }

        fromRing += ReleaseRing();

        var report = new PagePoolDestroyReport(
            Id,
            inflightAtDestroy,
            fromCache,
            fromRing,
            unmapped,
            Inflight,
            DateTimeOffset.UtcNow,
            Stopwatch.GetElapsedTime(started),
            _tracking ? GetOutstandingAllocations() : []);
        Volatile.Write(ref _destroyReport, report);
        _nextStallReportTicks = Environment.TickCount64 + (long)_options.StallWarningAfter.TotalMilliseconds;
        Interlocked.Exchange(ref _state, (int)PagePoolState.Detached);

        TryCompleteRelease();
        if (State == PagePoolState.Detached)
        {
            _releaseRetryTimer = new Timer(_ => RetryRelease(), null, _options.ReleaseRetryInterval, _options.ReleaseRetryInterval);
        }

        return report;
    }

    /// <summary>
    /// Waits until every page is back and the pool is released. Returns false if <paramref name="timeout"/> passes
    /// first; <see cref="GetInfo"/> then shows the stall.
    /// </summary>
    public async Task<bool> WaitForReleaseAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _released.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void UnmapReleasedPage(ref PageMetadata page)
    {
        if (_deviceGate.TryEnter())
        {
            try
            {
                ulong dmaAddress = page.DmaAddress;
                if (Interlocked.CompareExchange(ref page.Mapped, 0, 1) == 1)
                {
                    _device!.Unmap(dmaAddress, _pageSize, _dmaDirection);
                }
            }
            finally
            {
                _deviceGate.Exit();
            }

            return;
        }

        SpinWait spinner = default;
        while (!Volatile.Read(ref _walkComplete))
        {
            spinner.SpinOnce();
        }
    }

    private long UnmapPagesStillMapped()
    {
        long unmapped = 0;
        foreach (ItemBlock block in SnapshotBlocks())
        {
            PageMetadata[] pages = block.Pages;
            for (int i = 0; i < pages.Length; i++)
            {
                ref PageMetadata page = ref pages[i];
                ulong dmaAddress = page.DmaAddress;
                if (Volatile.Read(ref page.Mapped) == 1 && Interlocked.CompareExchange(ref page.Mapped, 0, 1) == 1)
                {
                    _device!.Unmap(dmaAddress, _pageSize, _dmaDirection);
                    unmapped++;
                }
            }
        }

        return unmapped;
    }

    private long ReleaseAllocCache()
    {
        int count = _cacheCount;
        _cacheCount = 0;
        for (int i = 0; i < count; i++)
        {
            int itemId = _cache[i];
            ReleasePage(ItemBlockTable.Get(itemId >> ItemBlock.IndexBits), itemId & ItemBlock.IndexMask, itemId);
        }

        return count;
    }

    private long ReleaseRing()
    {
        Span<int> batch = stackalloc int[RefillBatch];
        long released = 0;
        int taken;
        while ((taken = _ring.DequeueBatch(batch)) > 0)
        {
            foreach (int itemId in batch[..taken])
            {
                ReleasePage(ItemBlockTable.Get(itemId >> ItemBlock.IndexBits), itemId & ItemBlock.IndexMask, itemId);
            }

            released += taken;
        }

        return released;
    }

    /// <summary>The kernel's <c>page_pool_release_retry</c>: drains stragglers from the ring and reports stalls.</summary>
    internal void RetryRelease()
    {
        if (Interlocked.Exchange(ref _retryBusy, 1) == 1)
        {
            return;
        }

        try
        {
            if (State == PagePoolState.Detached)
            {
                ReleaseRing();
                TryCompleteRelease();
            }

            if (State == PagePoolState.Released)
            {
                _releaseRetryTimer?.Dispose();
                return;
            }

            if (Environment.TickCount64 >= _nextStallReportTicks)
            {
                _nextStallReportTicks = Environment.TickCount64 + (long)_options.StallWarningAfter.TotalMilliseconds;
                _options.OnStalled?.Invoke(GetInfo());
            }
        }
        finally
        {
            Volatile.Write(ref _retryBusy, 0);
        }
    }

    /// <summary>
    /// Completes the release once every page is back: runs once, from whichever thread sees release == hold
    /// after the pool is detached (the releaser of the last page, destroy itself, or the retry timer).
    /// </summary>
    private void TryCompleteRelease()
    {
        if (Interlocked.Read(ref _releaseCount) != Volatile.Read(ref _holdCount)
            || Interlocked.CompareExchange(ref _state, (int)PagePoolState.Released, (int)PagePoolState.Detached) != (int)PagePoolState.Detached)
        {
            return;
        }

        foreach (ItemBlock block in SnapshotBlocks())
        {
            ItemBlockTable.Return(block);
        }

        PagePoolRegistry.Unregister(this);
        if (_ownsProvider && _hostPages is not null)
        {
            _hostPages.DisposeWhenEmpty();
        }
        else if (_ownsProvider && _provider is IDisposable disposable)
        {
            disposable.Dispose();
        }

        _releaseRetryTimer?.Dispose();
        _released.TrySetResult();
    }
}

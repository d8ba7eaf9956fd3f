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
//   * The unmap claim. Each page's PageMetadata.Mapped is MappedUnclaimed while it is mapped. Whoever swaps it away
//     from that value owns the mapping's end; nobody else does. This is the merged kernel fix's xa_cmpxchg on the
//     tracking entry. The claimer that calls the device goes through Unmapping, so a releaser can tell "a call on
//     this page may still run" (wait) from "done" (free); the walk ends in values of its own, so a releaser knows
//     destroy has already accounted for the page.
//   * The device gate (DeviceAccessGate). Every device call (map on the slow path, unmap on release, sync on
//     recycle or for the CPU) happens inside the gate. Destroy closes the gate and waits for the threads already
//     inside to leave: the equivalent of rcu_read_lock around the DMA call plus synchronize_net in destroy. The walk
//     enters the same gate through a door that only revocation shuts, so its calls are counted with everybody's.
//   * The item blocks. Every page the pool ever brought in is tracked by an item in one of the pool's blocks, so a
//     walk of the blocks finds every mapped page, wherever it is held.
//
// The sequence.
//   1. State Active → Destroying (compare-and-swap: a second destroy is refused). From here no allocation succeeds,
//      and every return releases its page instead of recycling it. If the owner is still inside an allocation or a
//      direct recycle (a driver that hung past its quiesce timeout), wait for it to leave (OwnerSection): from then
//      on the owner never touches its cache, ring or fragment page again, so destroy may drain them.
//   2. Snapshot: mark the release counter and read it in the same atomic OR (see "The report" below).
//   3. Release the alloc cache, the page being carved into fragments (if its slices are all back) and the ring
//      (every returning thread's part of it, see RecycleRing).
//      The gate is still open, so these releases unmap normally through the claim.
//   4. Close the gate and wait for it to empty.
//   5. Walk every block and claim every page still mapped: unmap it, or, once access is revoked, leave it to the
//      domain teardown without a device call.
//   6. Publish "walk complete", release pages that slipped into the ring meanwhile, state → Detached, report.
//
// Why it holds: the five invariants destroy keeps (the table in ARCHITECTURE.md, "Destroy and its invariants").
//   (1) Every map is matched by exactly one unmap, or by the domain teardown after a revocation. A map happens
//       inside the gate and publishes the claim before it leaves, so after step 4 every successful map is visible
//       to the walk. The claim leaves MappedUnclaimed once per mapping, whoever takes it, and the taker either makes
//       the one unmap call (a throwing Unmap still consumes the claim: the pool never calls again for it) or, when
//       access is revoked, makes none. A releaser that finds the gate closed takes the claim only when access is
//       revoked (no call); otherwise it leaves it to the walk.
//   (2) After destroy returns, no device call is made or running. Calls already inside the gate ended in step 4;
//       new entrants see the gate closed and make no call; the walk's own calls finish before step 6.
//   (3) Every page is accounted. Hold is counted once when a page is brought in (owner only); release is counted
//       once when a page leaves, by the single thread that owns it at that point (the return CAS in ItemState makes
//       that thread unique). Inflight = hold − release ≥ 0, and it reaches 0 only when every page has left.
//   (4) Nothing touches the pool's resources after the release that might be its last. A releaser's last write to
//       the pool's accounting is its release-count increment (and, during destroy only, one report counter); after
//       it, it only reads the state to decide whether to try completing. The completion (blocks handed back to the
//       table, provider disposed) runs once, under a compare-and-swap, only when release == hold after Detached,
//       i.e. when no other thread still owns a page of this pool.
//   (5) State bits never share a word with non-atomic fields: item lifecycle and generation are alone in their
//       word; the claim is its own word; the release counter's snapshot mark shares its word only with the count,
//       which is only ever changed atomically; see ItemState.
//   Memory is never freed under a device call. A releaser frees a page only once its claim is no longer
//   MappedUnclaimed or Unmapping: either it made the call itself and it returned, or the claim ended elsewhere and
//   the claimer's call (if any) returned before it wrote the end value. So a releaser meeting the closed gate waits
//   for that one page (bounded by the walk reaching it, or by one device call), never for the whole walk.
//
// Revocation (RevokeDeviceAccess). A supervisor whose destroy timed out (the walk stuck behind a slow device) must
// still be able to say "no device call starts from now on" before it tears the domain down. Revoking sets the gate's
// revoked bit: from then on nobody is admitted, the walk included, so the number admitted (DeviceCallsInFlight) only
// goes down, and 0 means no call runs and none can start. The walk, refused at its next page, keeps walking but takes
// each remaining claim straight to LeftToDomainByWalk; a releaser refused at the gate takes its own page's claim the
// same way. Either way the claim is consumed, so nothing ever unmaps that mapping later: exactly-once holds, with the
// domain teardown as the one "unmap". Revoking never waits, so the supervisor is never blocked on the device.
//
// Memory behind a mapping left to the domain. Such a mapping stays live until the domain is torn down, so the device
// can still write into the page after the pool let go of it. Its memory therefore must not reach the memory provider
// (which may hand it to another pool) before the teardown has returned. A release that finds its page's mapping left
// to the domain (its own revoked claim, or the walk's LeftToDomainByWalk) frees the item and counts the release as
// usual, but hands the memory to DomainTeardownQuarantine instead of the provider; ReleaseAfterDomainTeardown, which
// the supervisor calls once the teardown returned, gives every waiting page to the provider and lets every later one
// go straight there. The quarantine's own argument (no page released before that call, none stranded) is on its
// class. The pool completes its release only when no page waits, so a provider the pool owns is never disposed under
// a waiting page, and a stuck teardown shows as a destroyed pool that never reaches Released.
//
// The report partitions InflightAtDestroy exactly. The snapshot (step 2) is taken after the owner left, so no page
// is brought in after it: the pages of InflightAtDestroy are exactly those released after the snapshot or never.
// The snapshot is one atomic OR that both reads the release count and sets a mark bit in it, so every release
// learns from its own increment whether it came after the snapshot, with no second atomic and no window between
// reading and marking. Each of those pages is then counted by the one event that settles it for destroy:
//   * destroy releases it from its cache (ReleasedFromCache) or ring (ReleasedFromRing), or its holder's release
//     completes after the snapshot (ReleasedFromRing: "released on the return path during destroy");
//   * the walk unmaps it (UnmappedByDestroy);
//   * its claim is taken under revocation, by the walk, destroy or a releaser (RevokedWithDomain).
// A page the walk claimed and that is released later (by its holder, or from the ring where a returner that read
// the state just before step 1 pushed it) is recognised by the walk's end value of its claim and not counted again;
// a release counts itself only when its increment carries the mark and it is not destroy's own. Whatever is left is
// StillInflight: pages still held elsewhere (or on their way back) that destroy neither released, unmapped nor
// revoked when it wrote the report. Each counter a concurrent releaser bumps is read once, so each page lands in one
// term or, if its count comes after that read, in StillInflight, never both. A releaser bumps its counter before its
// release-count increment whenever it already sees the mark, and destroy reads HeldAtReport before those counters,
// so every page in StillInflight is also in HeldAtReport (only a release racing the snapshot itself, at the start
// of destroy, counts itself after its increment).
//
// Late returners that find the gate closed before the walk has passed their page wait for it as above. A page
// pushed into the ring by a returner that checked the state just before step 1 (into its own part of the ring, even
// one it creates only then) is caught by step 6's drain or by the release-retry timer (the kernel's release_dw),
// which keeps draining every part of the ring until inflight reaches 0.
public sealed partial class PagePool
{
    /// <summary>
    /// Destroys the pool, normally after the owner has stopped allocating (an owner still running is waited out of
    /// its current operation and refused from then on): releases the cache and ring, unmaps every page still held
    /// elsewhere, and returns a report. When it returns, no device call for this pool is made or running, so the
    /// device may be unbound. The pool lives on until its last page is back. If <see cref="RevokeDeviceAccess"/> is
    /// called while it runs, it stops calling the device and leaves the remaining mappings to the domain teardown.
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
        long releasedAtSnapshot = Interlocked.Or(ref _releaseCount, ReleasedAfterSnapshotMark) & ~ReleasedAfterSnapshotMark;
        long inflightAtDestroy = Volatile.Read(ref _holdCount) - releasedAtSnapshot;
        long failuresAtSnapshot = Interlocked.Read(ref _deviceCallFailures);
        var counts = new DestroyCounts();

        ReleaseFragmentPageIfUnused(ref counts);
        ReleaseAllocCache(ref counts);
        ReleaseRing(ref counts);

        _deviceGate.CloseAndWait();
        try
        {
            if (_tracking && _device is not null)
            {
                ClaimPagesStillMapped(ref counts);
            }
        }
        finally
        {
            // Late releasers may be waiting for a claim only the walk would take; never leave them spinning.
            Volatile.Write(ref _walkComplete, true);
        }

        ReleaseRing(ref counts);

        // Held first, then the returners' counters, which they bump before their release: a page the report leaves
        // in StillInflight is then also one HeldAtReport still counts.
        long heldAtReport = Inflight;
        long returned = Interlocked.Read(ref _returnedDuringDestroy);
        long revokedReturns = Interlocked.Read(ref _revokedReturnsDuringDestroy);
        long releasedFromRing = counts.FromRing + returned;
        long revoked = counts.Revoked + revokedReturns;
        var report = new PagePoolDestroyReport(
            Id,
            inflightAtDestroy,
            counts.FromCache,
            releasedFromRing,
            counts.Unmapped,
            inflightAtDestroy - counts.FromCache - releasedFromRing - counts.Unmapped - revoked,
            DateTimeOffset.UtcNow,
            Stopwatch.GetElapsedTime(started),
            _tracking ? GetOutstandingAllocations() : [])
        {
            RevokedWithDomain = revoked,
            HeldAtReport = heldAtReport,
            DeviceCallFailures = Interlocked.Read(ref _deviceCallFailures) - failuresAtSnapshot,
        };
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
    /// Revokes this pool's access to its device: from the moment this returns, no new device call (map, unmap, sync
    /// for the device or the CPU, destroy's own unmapping walk) starts for this pool. Calls already admitted finish;
    /// <see cref="DeviceCallsInFlight"/> counts them and only goes down from here. It does not wait.
    /// </summary>
    /// <remarks>
    /// Meant for a supervisor whose destroy timed out: a <see cref="Destroy"/> still running on another thread stops
    /// calling the device at its next page and takes the unmap claim of every page still mapped without a call; a
    /// page released later does the same. Those mappings are left to the device's domain teardown (counted as
    /// <see cref="PagePoolDestroyReport.RevokedWithDomain"/> and <see cref="PagePoolStats.RevokedWithDomain"/>),
    /// and nothing ever unmaps them afterwards. Idempotent; callable from any thread at any time, before, during or
    /// after destroy. Allocation that needs a new mapping fails once access is revoked.
    /// <para>The memory of a page whose mapping was left to the domain is not given back to the memory provider when
    /// the page is released: the device can still write into it until the domain is torn down. The pool holds it
    /// (<see cref="PagePoolStats.AwaitingDomainTeardown"/>) until <see cref="ReleaseAfterDomainTeardown"/> is called.
    /// Whoever revokes must therefore call that method once the domain is gone; the device supervisor does. An
    /// embedder that revokes and never tears the domain down (or never says so) keeps that memory allocated and the
    /// pool short of <see cref="PagePoolState.Released"/>: a leak by design, never memory a device can write handed
    /// to someone else.</para>
    /// </remarks>
    public void RevokeDeviceAccess() => _deviceGate.Revoke();

    /// <summary>
    /// Tells the pool that its device's domain has been torn down (every mapping, revoked ones included, is gone):
    /// every page whose mapping was left to the domain and that waits in the pool goes to the memory provider now, and
    /// any such page released later goes straight there. Call it after the teardown has returned, never before.
    /// </summary>
    /// <remarks>
    /// Callable from any thread, idempotent. A pool whose access was never revoked has no waiting page; calling it
    /// after such a pool's destroy is harmless. The pool completes its release (<see cref="WaitForReleaseAsync"/>)
    /// only once no page waits.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The pool still uses its device: it is active and its access was
    /// not revoked, so its domain cannot have been torn down.</exception>
    public void ReleaseAfterDomainTeardown()
    {
        if (!_deviceGate.IsRevoked && State == PagePoolState.Active)
        {
            throw new InvalidOperationException(
                $"{Name} (id {Id}) still uses its device (it is active and its access was not revoked), so its domain cannot have been torn down.");
        }

        _awaitingDomainTeardown.ReleaseAll(_provider);
        if (State == PagePoolState.Detached)
        {
            TryCompleteRelease();
        }
    }

    /// <summary>Whether <see cref="ReleaseAfterDomainTeardown"/> was called.</summary>
    public bool IsDomainTornDown => _awaitingDomainTeardown.IsTornDown;

    /// <summary>Whether <see cref="RevokeDeviceAccess"/> was called.</summary>
    public bool IsDeviceAccessRevoked => _deviceGate.IsRevoked;

    /// <summary>
    /// How many device calls of this pool (destroy's walk included) are running or admitted to run right now: one
    /// plain read. After <see cref="RevokeDeviceAccess"/> it only goes down, and 0 then means no call is running and
    /// none can start, so the domain may be torn down.
    /// </summary>
    public int DeviceCallsInFlight => _deviceGate.Admitted;

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

    /// <summary>
    /// A releaser ends its page's mapping before the memory is freed, and says how it ended. Inside the open gate it
    /// takes the claim and unmaps. Refused at the gate it makes no call: it takes the claim itself only when access
    /// is revoked, and otherwise waits until the walk has taken it; either way it returns only once no device call on
    /// the page can still be running (the claim is neither unclaimed nor being unmapped).
    /// </summary>
    private MappingEnd EndMappingOfReleasedPage(ref PageMetadata page)
    {
        if (_deviceGate.TryEnter())
        {
            try
            {
                if (Interlocked.CompareExchange(ref page.Mapped, PageMetadata.Unmapping, PageMetadata.MappedUnclaimed) == PageMetadata.MappedUnclaimed)
                {
                    UnmapClaimed(ref page, PageMetadata.NotMapped);
                    return MappingEnd.Unmapped;
                }
            }
            finally
            {
                _deviceGate.Exit();
            }

            return MappingEnd.NotMapped;
        }

        SpinWait spinner = default;
        while (true)
        {
            int claim = Volatile.Read(ref page.Mapped);
            switch (claim)
            {
                case PageMetadata.NotMapped:
                    return MappingEnd.NotMapped;
                case PageMetadata.UnmappedByWalk or PageMetadata.LeftToDomainByWalk:
                    return MappingEnd.SettledByWalk;
                case PageMetadata.MappedUnclaimed when _deviceGate.IsRevoked:
                    // Through Unmapping, so the walk (which waits out a page in Unmapping) finishes only once this
                    // claim is in _revokedClaims: when destroy returns, the pool's revoked count is final.
                    if (Interlocked.CompareExchange(ref page.Mapped, PageMetadata.Unmapping, PageMetadata.MappedUnclaimed) == PageMetadata.MappedUnclaimed)
                    {
                        Interlocked.Increment(ref _revokedClaims);
                        Volatile.Write(ref page.Mapped, PageMetadata.NotMapped);
                        return MappingEnd.LeftToDomain;
                    }

                    continue;
                case PageMetadata.MappedUnclaimed when Volatile.Read(ref _walkComplete):
                    // No walk ran (inflight tracking off): the mapping stays, by design, and the page is freed.
                    return MappingEnd.LeftMapped;
            }

            spinner.SpinOnce();
        }
    }

    /// <summary>
    /// Makes the one unmap call of a claim taken (it reads <see cref="PageMetadata.Unmapping"/>), then publishes the
    /// claim's end. A device that throws still consumed the claim: the failure is counted, never retried.
    /// </summary>
    private void UnmapClaimed(ref PageMetadata page, int end)
    {
        try
        {
            _device!.Unmap(page.DmaAddress, _pageSize, _dmaDirection);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _deviceCallFailures);
        }
        finally
        {
            Volatile.Write(ref page.Mapped, end);
        }
    }

    /// <summary>
    /// Destroy's walk, behind the closed gate: every page still mapped is claimed and unmapped, each call inside the
    /// gate's walker door; once access is revoked the door stays shut and each remaining claim is taken without a
    /// call. It always finishes: a throwing Unmap is counted and the walk goes on.
    /// </summary>
    private void ClaimPagesStillMapped(ref DestroyCounts counts)
    {
        foreach (ItemBlock block in SnapshotBlocks())
        {
            for (int i = 0; i < ItemBlock.ItemsPerBlock; i++)
            {
                ref PageMetadata page = ref block.Pages[i];
                int claim = Volatile.Read(ref page.Mapped);
                if (claim == PageMetadata.Unmapping)
                {
                    // Behind the closed gate only a releaser taking its claim under revocation can be here, between
                    // two writes; wait for it so its revoked claim is counted before destroy returns.
                    claim = WaitWhileUnmapping(ref page);
                }

                if (claim != PageMetadata.MappedUnclaimed)
                {
                    continue;
                }

                if (_deviceGate.TryEnterAsWalker())
                {
                    try
                    {
                        if (Interlocked.CompareExchange(ref page.Mapped, PageMetadata.Unmapping, PageMetadata.MappedUnclaimed) == PageMetadata.MappedUnclaimed)
                        {
                            UnmapClaimed(ref page, PageMetadata.UnmappedByWalk);
                            counts.Unmapped++;
                        }
                    }
                    finally
                    {
                        _deviceGate.Exit();
                    }
                }
                else if (Interlocked.CompareExchange(ref page.Mapped, PageMetadata.LeftToDomainByWalk, PageMetadata.MappedUnclaimed) == PageMetadata.MappedUnclaimed)
                {
                    Interlocked.Increment(ref _revokedClaims);
                    counts.Revoked++;
                }
            }
        }
    }

    private static int WaitWhileUnmapping(ref PageMetadata page)
    {
        SpinWait spinner = default;
        int claim;
        while ((claim = Volatile.Read(ref page.Mapped)) == PageMetadata.Unmapping)
        {
            spinner.SpinOnce();
        }

        return claim;
    }

    private void ReleaseAllocCache(ref DestroyCounts counts)
    {
        int count = _cacheCount;
        _cacheCount = 0;
        for (int i = 0; i < count; i++)
        {
            int itemId = _cache[i];
            ItemBlock block = ItemBlockTable.BlockOf(itemId, out int index);
            MappingEnd end = ReleasePage(block, index, itemId, byDestroy: true);
            counts.Count(end, ref counts.FromCache);
        }
    }

    /// <summary>Destroy's drains (and the retry timer's): releases every page in every returning thread's ring; counts them for the report.</summary>
    private void ReleaseRing(ref DestroyCounts counts)
    {
        Span<int> batch = stackalloc int[RefillBatch];
        int taken;
        while ((taken = _ring.DequeueBatch(batch)) > 0)
        {
            foreach (int itemId in batch[..taken])
            {
                ItemBlock block = ItemBlockTable.BlockOf(itemId, out int index);
                MappingEnd end = ReleasePage(block, index, itemId, byDestroy: true);
                counts.Count(end, ref counts.FromRing);
            }
        }
    }

    /// <summary>How a released page's mapping ended, which decides where destroy's report counts the page.</summary>
    private enum MappingEnd
    {
        /// <summary>The page had no mapping (no device, or already unmapped).</summary>
        NotMapped,

        /// <summary>The releaser unmapped it.</summary>
        Unmapped,

        /// <summary>The releaser took the claim after revocation, without a device call.</summary>
        LeftToDomain,

        /// <summary>Destroy's walk had already claimed it: the page is counted by the walk.</summary>
        SettledByWalk,

        /// <summary>No walk ran (tracking off) and the mapping stays.</summary>
        LeftMapped,
    }

    /// <summary>Destroy's own counts; only the destroying thread touches them.</summary>
    private struct DestroyCounts
    {
        public long FromCache;
        public long FromRing;
        public long Unmapped;
        public long Revoked;

        /// <summary>A page destroy released: counted in <paramref name="released"/> unless the walk or a revocation settled it.</summary>
        public void Count(MappingEnd end, ref long released)
        {
            if (end == MappingEnd.LeftToDomain)
            {
                Revoked++;
            }
            else if (end != MappingEnd.SettledByWalk)
            {
                released++;
            }
        }
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
                var afterReport = new DestroyCounts();
                ReleaseRing(ref afterReport);
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
    /// Completes the release once every page is back and no page's memory waits for the domain teardown: runs once,
    /// from whichever thread sees release == hold and nothing waiting after the pool is detached (the releaser of the
    /// last page, destroy itself, the retry timer, or the call that released the waiting pages). Both conditions are
    /// ended by interlocked writes (the last release's increment, the last waiting page's decrement) each followed
    /// by this check, so whichever comes second sees both.
    /// </summary>
    private void TryCompleteRelease()
    {
        if ((Interlocked.Read(ref _releaseCount) & ~ReleasedAfterSnapshotMark) != Volatile.Read(ref _holdCount)
            || _awaitingDomainTeardown.Waiting != 0
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

using System.Runtime.CompilerServices;
using Netmem.Pool.Core;
using Netmem.Pool.Misuse;

namespace Netmem.Pool;

public sealed partial class PagePool
{
    /// <summary>
    /// Returns a page from any thread: into the recycle ring (the calling thread's own part of it), or, when that
    /// is full, the page has extra references, or the pool is destroyed, released (unmapped if destroy has not done
    /// it, then freed).
    /// </summary>
    /// <exception cref="DoubleReturnException">The handle was already returned.</exception>
    /// <exception cref="WrongPoolException">Another pool lent the page.</exception>
    /// <exception cref="InvalidNetmemException">Default, forged or corrupted handle.</exception>
    /// <exception cref="FragmentMismatchException">The page is lent as fragments.</exception>
    public void Return(NetmemRef netmem) => ReturnWhole(netmem, allowDirect: false);

    /// <summary>
    /// Returns a page from the owner's context straight into the alloc cache (<c>page_pool_recycle_direct</c>);
    /// when the cache is full it goes to the ring. Only the allocation side's owner may call it.
    /// </summary>
    public void RecycleDirect(NetmemRef netmem) => ReturnWhole(netmem, allowDirect: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReturnWhole(NetmemRef netmem, bool allowDirect)
    {
        ItemBlock block = ResolveBlock(netmem, UseOfHandle.Return);
        int index = netmem.ItemIndex;
        if (_tracking)
        {
            TakeBackLentPage(ref block.Slots[index], netmem, ItemState.Lent);
        }

        Recycle(block, index, netmem.ItemId, allowDirect);
    }

    /// <summary>
    /// The one transition that decides who owns a returned page: lent at the handle's generation → cached at the
    /// next generation, by compare-and-swap. Exactly one return of a lending can succeed; every other (a double
    /// return, a stale handle, a racing duplicate) sees a different word, changes nothing and is told why.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TakeBackLentPage(ref ItemSlot slot, NetmemRef netmem, long lentAs)
    {
        uint generation = netmem.Generation;
        long lent = ItemState.Make(generation, lentAs);
        long observed = Interlocked.CompareExchange(ref slot.State, ItemState.Make(ItemState.NextGeneration(generation), ItemState.Cached), lent);
        if (observed != lent)
        {
            throw ReturnRefused(netmem, observed, lentAs);
        }
    }

    /// <summary>Puts a page the pool has taken back into the cache or ring, or releases it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Recycle(ItemBlock block, int index, int itemId, bool allowDirect)
    {
        // The two common cases of a plain page (no device sync, no extra reference) stay inline: the owner's direct
        // recycle into its cache, and any thread's return into its own ring while the pool is active, with no locked
        // instruction (the item's compare-and-swap is the return's only one). Everything else, a full cache or ring
        // included, decides out of line, which checks again from the start (a ring enqueue that failed changed
        // nothing).
        if (!_syncForDevice && block.Pages[index].ExternalReferences == 0)
        {
            if (allowDirect ? TryRecycleIntoCache(itemId) : Volatile.Read(ref _state) == (int)PagePoolState.Active && _ring.TryEnqueue(itemId))
            {
                return;
            }
        }

        RecycleOutOfLine(block, index, itemId, allowDirect && _syncForDevice);
    }

    private void RecycleOutOfLine(ItemBlock block, int index, int itemId, bool allowDirect)
    {
        ref PageMetadata page = ref block.Pages[index];
        if (page.ExternalReferences != 0)
        {
            _recycleReleasedRefcount.Increment();
            ReleasePage(block, index, itemId);
            return;
        }

        if (Volatile.Read(ref _state) != (int)PagePoolState.Active)
        {
            _lateReturns.Increment();
            ReleasePage(block, index, itemId);
            return;
        }

        if (_syncForDevice && !TrySyncRecycledPageForDevice(ref page, out bool failed))
        {
            // Refused at the gate: by destroy (a late return) or by a revocation of an active pool (not late).
            if (!failed && Volatile.Read(ref _state) != (int)PagePoolState.Active)
            {
                _lateReturns.Increment();
            }

            ReleasePage(block, index, itemId);
            return;
        }

        if (allowDirect && TryRecycleIntoCache(itemId))
        {
            return;
        }

        if (_ring.TryEnqueue(itemId))
        {
            return;
        }

        _recycleRingFull.Increment();
        ReleasePage(block, index, itemId);
    }

    /// <summary>
    /// Hands a recycled page back to the device; false when it must be released instead: destroy (or a revocation)
    /// shut the gate, or the sync threw (<paramref name="failed"/>; counted), so the page is not recycled in a state
    /// the device may not expect, and its release unmaps it once like any other.
    /// </summary>
    private bool TrySyncRecycledPageForDevice(ref PageMetadata page, out bool failed)
    {
        failed = false;
        if (!_deviceGate.TryEnter())
        {
            return false;
        }

        try
        {
            if (Volatile.Read(ref page.Mapped) == PageMetadata.MappedUnclaimed)
            {
                _device!.SyncForDevice(page.DmaAddress, _syncOffset, _syncLength, _dmaDirection);
            }

            return true;
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _deviceCallFailures);
            failed = true;
            return false;
        }
        finally
        {
            _deviceGate.Exit();
        }
    }

    /// <summary>
    /// A page leaves the pool: its mapping ended (see <see cref="EndMappingOfReleasedPage"/>), freed to the provider
    /// (or, when its mapping was left to the domain teardown, held until that teardown has returned), its item freed. The release count is the last accounting touched; see the destroy design for why that
    /// matters and for the report counter a release after destroy's snapshot bumps. Returns how the mapping ended,
    /// for destroy's own releases (<paramref name="byDestroy"/>), which destroy counts itself.
    /// </summary>
    private MappingEnd ReleasePage(ItemBlock block, int index, int itemId, bool byDestroy = false)
    {
        ref ItemSlot slot = ref block.Slots[index];
        ref PageMetadata page = ref block.Pages[index];
        MappingEnd end = _device is not null ? EndMappingOfReleasedPage(ref page) : MappingEnd.NotMapped;
        bool leftToDomain = end == MappingEnd.LeftToDomain
            || (end == MappingEnd.SettledByWalk && Volatile.Read(ref page.Mapped) == PageMetadata.LeftToDomainByWalk);

        ulong pageId = slot.Page;
        page.ExternalReferences = 0;
        page.FragmentWord = 0;
        if (block.AllocationSites is { } sites)
        {
            sites[index] = null;
        }

        Volatile.Write(ref slot.State, ItemState.Make(ItemState.GenerationOf(slot.State), ItemState.Free));
        if (leftToDomain)
        {
            // Its mapping lives until the domain teardown: the memory waits for it (see DomainTeardownQuarantine).
            _awaitingDomainTeardown.HoldOrRelease(pageId, _provider);
        }
        else
        {
            _provider.ReleasePage(pageId);
        }

        _releasedItems.Push(itemId, ref slot);

        // A holder's release after destroy's snapshot is counted for the report before the release itself, so a
        // page the report counts as returned is never also one it finds still held. The mark is read first (it only
        // ever gets set) and the increment's own result catches a release racing the snapshot.
        bool counted = !byDestroy && (Volatile.Read(ref _releaseCount) & ReleasedAfterSnapshotMark) != 0;
        if (counted)
        {
            CountReleaseDuringDestroy(end);
        }

        long released = Interlocked.Increment(ref _releaseCount);
        if (!counted && !byDestroy && (released & ReleasedAfterSnapshotMark) != 0)
        {
            CountReleaseDuringDestroy(end);
        }

        if (Volatile.Read(ref _state) == (int)PagePoolState.Detached)
        {
            TryCompleteRelease();
        }

        return end;
    }

    /// <summary>A holder's release after destroy's snapshot: one report counter, unless the walk already counted the page.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountReleaseDuringDestroy(MappingEnd end)
    {
        if (end == MappingEnd.LeftToDomain)
        {
            Interlocked.Increment(ref _revokedReturnsDuringDestroy);
        }
        else if (end != MappingEnd.SettledByWalk)
        {
            Interlocked.Increment(ref _returnedDuringDestroy);
        }
    }

    /// <summary>
    /// Owner only: pushes the page into the alloc cache, unless the cache is full or destroy has begun (the page
    /// then goes to the ring like any return; destroy's drain or its retry timer releases it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryRecycleIntoCache(int itemId)
    {
        _ownerSection.Enter();
        bool active = Volatile.Read(ref _state) == (int)PagePoolState.Active;
        bool cached = active && _cacheCount < AllocCacheSize;
        if (cached)
        {
            _cache[_cacheCount++] = itemId;
            _recycleCached++;
        }
        else if (active)
        {
            _recycleCacheFull++;
        }

        _ownerSection.Leave();
        return cached;
    }
}

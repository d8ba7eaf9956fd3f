using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Netmem.Pool.Core;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;

namespace Netmem.Pool;

public sealed partial class PagePool
{
    /// <summary>
    /// Allocates a page (owner only). Fast path: pop the alloc cache. Otherwise refill up to 64 pages from the
    /// recycle ring, and failing that bring in up to 64 pages from the memory provider, DMA-mapping each.
    /// </summary>
    /// <exception cref="PoolDestroyedException">The pool was destroyed.</exception>
    /// <exception cref="MemoryProviderExhaustedException">The provider had no page.</exception>
    /// <exception cref="DmaMapException">The device could not map the page (or whatever the device threw).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public NetmemRef Allocate()
    {
        _ownerSection.Enter();
        if (_cacheCount > 0 && Volatile.Read(ref _state) == (int)PagePoolState.Active)
        {
            _allocFast++;
            NetmemRef lent = Lend(_cache[--_cacheCount], ItemState.Lent);
            _ownerSection.Leave();
            return lent;
        }

        return AllocateSlowInOwnerSection();
    }

    /// <summary>
    /// Makes pages brought in from now on belong to <paramref name="node"/>; pages of other nodes met at refill are
    /// released (<c>waive</c>), the kernel's <c>page_pool_update_nid</c>. Owner only.
    /// </summary>
    public void UpdatePreferredNode(int node)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(node);
        _preferredNodeChanged |= node != _preferredNode;
        _preferredNode = node;
    }

    private NetmemRef AllocateSlowInOwnerSection()
    {
        try
        {
            return AllocateSlow(ItemState.Lent);
        }
        finally
        {
            _ownerSection.Leave();
        }
    }

    /// <summary>Owner only, inside the owner section: refuses once destroy has begun.</summary>
    private void ThrowIfCannotAllocate()
    {
        if (Volatile.Read(ref _state) != (int)PagePoolState.Active)
        {
            throw new PoolDestroyedException($"{Name} (id {Id}) is {State}; it can no longer allocate.");
        }
    }

    private NetmemRef AllocateSlow(long lifecycle)
    {
        ThrowIfCannotAllocate();
        int takenFromRing = RefillFromRing();
        if (_cacheCount > 0)
        {
            _allocRefill++;
            return Lend(_cache[--_cacheCount], lifecycle);
        }

        if (takenFromRing == 0)
        {
            _allocEmpty++;
        }

        BringInPages();
        _allocSlow++;
        return Lend(_cache[--_cacheCount], lifecycle);
    }

    /// <summary>Hands out a cached page: the owner stores the lent state (see <see cref="ItemState"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private NetmemRef Lend(int itemId, long lifecycle)
    {
        ItemBlock block = ItemBlockTable.BlockOf(itemId, out int index);
        ref ItemSlot slot = ref block.Slots[index];
        uint generation = ItemState.GenerationOf(slot.State);
        if (_tracking)
        {
            Volatile.Write(ref slot.State, ItemState.Make(generation, lifecycle));
        }

        if (_captureAllocationSites)
        {
            block.AllocationSites![index] = Environment.StackTrace;
        }

        return new NetmemRef(itemId, generation, _unreadable);
    }

    /// <summary>Refills the cache from the ring, waiving pages of another node; returns how many the ring gave.</summary>
    /// <remarks>
    /// A page is brought in on the preferred node of that moment, so until the preferred node first changes no page
    /// can be of another node and the batch is taken as it is, without reading each page's record (that read was
    /// about 8% of the ring path, BENCHMARKS.md §9.1). After a change, pages of an earlier node may be anywhere
    /// (lent, in a ring) for as long as they live, so the flag stays set and every refill checks every page.
    /// </remarks>
    private int RefillFromRing()
    {
        int taken = _ring.DequeueBatch(_cache.AsSpan(0, RefillBatch));
        if (!_preferredNodeChanged)
        {
            _cacheCount = taken;
            return taken;
        }

        int kept = 0;
        for (int i = 0; i < taken; i++)
        {
            int itemId = _cache[i];
            ItemBlock block = ItemBlockTable.BlockOf(itemId, out int index);
            if (block.Pages[index].Node != _preferredNode)
            {
                _allocWaive++;
                ReleasePage(block, index, itemId);
                continue;
            }

            _cache[kept++] = itemId;
        }

        _cacheCount = kept;
        return taken;
    }

    private void BringInPages()
    {
        Exception? failure = null;
        while (_cacheCount < SlowPathBatch && TryBringInPage(out failure))
        {
        }

        if (_cacheCount == 0)
        {
            ExceptionDispatchInfo.Throw(failure!);
        }
    }

    /// <summary>
    /// Takes a page from the provider, binds it to a free item and maps it. On any failure everything taken is
    /// given back, so a failed allocation changes no accounting.
    /// </summary>
    private bool TryBringInPage(out Exception? failure)
    {
        if (!_provider.TryAllocatePage(out ulong page))
        {
            _providerFailures++;
            failure = new MemoryProviderExhaustedException($"{Name}: the memory provider has no free page.");
            return false;
        }

        nint hostAddress;
        try
        {
            hostAddress = _provider.GetHostAddress(page);
        }
        catch (Exception exception)
        {
            _provider.ReleasePage(page);
            failure = exception;
            return false;
        }

        int itemId;
        try
        {
            itemId = TakeFreeItem();
        }
        catch
        {
            _provider.ReleasePage(page);
            throw;
        }

        ItemBlock block = ItemBlockTable.BlockOf(itemId, out int index);
        ref ItemSlot slot = ref block.Slots[index];
        ref PageMetadata metadata = ref block.Pages[index];
        slot.Page = page;
        metadata = new PageMetadata { HostAddress = hostAddress, Node = _preferredNode };

        if (_device is not null && !TryMapPage(ref metadata, page, out failure))
        {
            _provider.ReleasePage(page);
            slot.Page = (ulong)(long)_holdItems;
            _holdItems = itemId;
            return false;
        }

        Volatile.Write(ref slot.State, ItemState.Make(ItemState.GenerationOf(slot.State), ItemState.Cached));
        Volatile.Write(ref _holdCount, _holdCount + 1);
        _cache[_cacheCount++] = itemId;
        failure = null;
        return true;
    }

    private bool TryMapPage(ref PageMetadata metadata, ulong page, out Exception? failure)
    {
        if (!_deviceGate.TryEnter())
        {
            failure = _deviceGate.IsRevoked
                ? new DmaMapException($"{Name} (id {Id}) had its device access revoked; it can no longer map pages.")
                : new PoolDestroyedException($"{Name} (id {Id}) is being destroyed; it can no longer map pages.");
            return false;
        }

        try
        {
            ulong dmaAddress = _device!.Map(new DmaBuffer(page, metadata.HostAddress, _pageSize), _dmaDirection);
            if (_syncForDevice)
            {
                SyncNewMappingOrUnmap(dmaAddress);
            }

            metadata.DmaAddress = dmaAddress;
            Volatile.Write(ref metadata.Mapped, PageMetadata.MappedUnclaimed);

            failure = null;
            return true;
        }
        catch (Exception exception)
        {
            _mapFailures++;
            failure = exception;
            return false;
        }
        finally
        {
            _deviceGate.Exit();
        }
    }

    /// <summary>
    /// A failed first sync must not leave the fresh mapping behind: undo it (once; a throwing undo is counted, not
    /// retried) before reporting the sync's failure as the map's.
    /// </summary>
    private void SyncNewMappingOrUnmap(ulong dmaAddress)
    {
        try
        {
            _device!.SyncForDevice(dmaAddress, _syncOffset, _syncLength, _dmaDirection);
        }
        catch
        {
            try
            {
                _device!.Unmap(dmaAddress, _pageSize, _dmaDirection);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _deviceCallFailures);
            }

            throw;
        }
    }

    /// <summary>
    /// Takes a tracking item: from the owner's private hold list, else the whole released list at once (see
    /// <see cref="ReleasedItemList"/>), else a new item block, so inflight is unlimited (the seed's
    /// <c>page_pool_item_blk_add</c>). Refuses, before anything is written, an item that is not a free item of this
    /// pool.
    /// </summary>
    /// <remarks>
    /// <para>Why the check. A free item's link to the next one is its <see cref="ItemSlot.Page"/>, the word that holds
    /// the page id once a page is bound to it (the kernel's <c>pp_netmem</c>/<c>lentry</c> union). The allocation
    /// side has one owner by contract; two threads allocating at once (a test allocating from its own thread while
    /// the driver fills its RX ring did) can both take the same head, and the second reads its "link" after the first
    /// has bound a page there: a page id. Page ids are small integers, and a small integer is an item id of the
    /// process's first item blocks, which may serve another pool. Followed, that link made this pool bind its page
    /// to the other pool's lent item: it overwrote the page id and page record there and stored Lent at the
    /// generation it found, so the other pool's holder's return passed its compare-and-swap and freed a page that
    /// was not its own ("Page 26 is already free", seen in the other pool after its destroy). Misuse may corrupt the
    /// misused pool; it must never reach another one.</para>
    /// <para>What it checks: an item this pool may take is in one of its own blocks (<see cref="ItemBlock.Owner"/>)
    /// and Free. Both hold for every item legitimately on the hold and released lists (a releaser stores Free before
    /// its push, and only the owner takes an item from Free). This link is the one place an id that is not the pool's
    /// own can come from: every other id the pool writes through is a handle's, resolved against its block's owner,
    /// or one from its own cache, ring or carving page, which only ever receive such ids. A refused list is dropped
    /// (its items are lost to this pool, which is already corrupt; a new block serves the next allocation) and the
    /// allocation throws, naming the contract. It is not a detector of two owners, and it closes this one way out of
    /// the misused pool, not every one: racing owners mostly corrupt their own pool's state (cache, hold count), but a
    /// hold count that lost an increment, or a page released twice from a duplicated cache entry, could still let the
    /// pool complete its release early and hand back blocks with pages out. Catching every race would cost the fast
    /// path an atomic. The check costs two loads per page brought in, beside the provider's lock and the device
    /// map.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The free-item list names an item that is not a free item of this pool.</exception>
    private int TakeFreeItem()
    {
        if (_holdItems == ReleasedItemList.Empty)
        {
            _holdItems = _releasedItems.TakeAll();
        }

        if (_holdItems == ReleasedItemList.Empty)
        {
            AddItemBlock();
        }

        int itemId = _holdItems;
        int index = ItemBlock.IndexOf(itemId);
        ItemBlock? block = ItemBlockTable.TryGet(ItemBlock.BlockIndexOf(itemId));
        if (block is null || block.Owner != this || ItemState.LifecycleOf(Volatile.Read(ref block.Slots[index].State)) != ItemState.Free)
        {
            _holdItems = ReleasedItemList.Empty;
            throw ForeignFreeItem(itemId, block);
        }

        _holdItems = (int)(long)block.Slots[index].Page;
        return itemId;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private InvalidOperationException ForeignFreeItem(int itemId, ItemBlock? block) => new(
        $"{Name} (id {Id}): its free-item list names item {itemId}, which is not a free item of this pool "
        + $"({(block is null ? "no such block" : block.Owner is { } owner && owner != this ? $"it belongs to {owner.Name} (id {owner.Id})" : block.Owner is null ? "its block serves no pool" : "it is in use")}). "
        + "The allocation side (Allocate, AllocateFragment, RecycleDirect, ReturnFragmentDirect) was used by two threads at once, "
        + "which the pool's threading contract forbids; the page was not bound to that item, so no other pool was touched.");

    private void AddItemBlock()
    {
        ItemBlock block = ItemBlockTable.Rent(this);
        if (_captureAllocationSites)
        {
            block.AllocationSites = new string?[ItemBlock.ItemsPerBlock];
        }

        lock (_blocks)
        {
            _blocks.Add(block);
        }

        for (int i = ItemBlock.ItemsPerBlock - 1; i >= 0; i--)
        {
            block.Slots[i].Page = (ulong)(long)_holdItems;
            _holdItems = block.FirstItemId + i;
        }
    }
}

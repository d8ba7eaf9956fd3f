using System.Runtime.CompilerServices;
using Netmem.Pool.Core;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;

namespace Netmem.Pool;

/// <summary>
/// A pool of DMA-mapped pages for one RX queue, modelled on the Linux page_pool with the item-block tracking of
/// the "fix IOMMU crash when driver has already unbound" series.
/// </summary>
/// <remarks>
/// <para>Threading contract (the kernel's): the <em>allocation side</em> (<see cref="Allocate"/>,
/// <see cref="AllocateFragment"/>, <see cref="RecycleDirect"/>, <see cref="ReturnFragmentDirect"/>,
/// <see cref="UpdatePreferredNode"/> and <see cref="Destroy"/>) belongs to one owner at a time, such as the RX
/// queue's poll loop or the actor that owns it. <see cref="Return"/>, <see cref="ReturnFragment"/> and every query
/// may be called from any thread, at any time, including after destroy.</para>
/// <para>The file is split by path: allocation, return, fragments, destroy.</para>
/// </remarks>
public sealed partial class PagePool
{
    private const int AllocCacheSize = 128;
    private const int RefillBatch = 64;
    private const int SlowPathBatch = 64;

    private readonly IMemoryProvider _provider;
    private readonly HostPageProvider? _hostPages;
    private readonly bool _ownsProvider;
    private readonly IDmaDevice? _device;
    private readonly DmaDirection _dmaDirection;
    private readonly bool _syncForDevice;
    private readonly int _syncOffset;
    private readonly int _syncLength;
    private readonly bool _tracking;
    private readonly bool _unreadable;
    private readonly bool _captureAllocationSites;
    private readonly int _pageSize;
    private readonly PagePoolOptions _options;

    // Allocation side: touched only by the owner, so plain fields; the owner works on them inside _ownerSection so
    // that a destroy racing a still-running owner waits for it (see OwnerSection).
    private readonly int[] _cache = new int[AllocCacheSize];
    private OwnerSection _ownerSection;
    private readonly List<ItemBlock> _blocks = new();
    private int _cacheCount;
    private int _holdItems = ReleasedItemList.Empty;
    private int _preferredNode;
    private long _allocFast;
    private long _allocSlow;
    private long _allocEmpty;
    private long _allocRefill;
    private long _allocWaive;
    private long _recycleCached;
    private long _recycleCacheFull;
    private long _mapFailures;
    private long _providerFailures;

    // Shared with returning threads.
    private readonly RecycleRing _ring;
    private readonly ReleasedItemList _releasedItems = new();
    private readonly DeviceAccessGate _deviceGate = new();
    private readonly StripedCounter _recycleRingFull = new();
    private readonly StripedCounter _recycleReleasedRefcount = new();
    private readonly StripedCounter _lateReturns = new();
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _holdCount;

    // Pages that left the pool; bit 62 is destroy's snapshot mark (see PagePool.Destroy.cs), masked on every read.
    private long _releaseCount;
    private long _revokedClaims;
    private long _deviceCallFailures;
    private int _state;

    public PagePool(PagePoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _pageSize = options.PageSize;
        _ownsProvider = options.MemoryProvider is null || options.OwnsMemoryProvider;
        _provider = options.MemoryProvider ?? new HostPageProvider(options.PageSize);
        _hostPages = _provider as HostPageProvider;
        _device = options.Device;
        _dmaDirection = options.DmaDirection;
        _syncForDevice = options.SyncForDevice && options.Device!.NeedsSync;
        _syncOffset = options.SyncOffset;
        _syncLength = options.MaxSyncLength == 0 ? options.PageSize - options.SyncOffset : options.MaxSyncLength;
        _tracking = options.TrackInflight;
        _unreadable = !_provider.IsReadable;
        _captureAllocationSites = options.LeakDetection == LeakDetectionMode.Paranoid;
        _ring = new RecycleRing(options.PoolSize);
        Id = PagePoolRegistry.Register(this);
        Name = options.Name ?? $"pool-{Id}";
        PagePoolMetrics.Attach(this, options.MeterFactory, _released.Task);
        PagePoolStallLog.Attach(this, options);
    }

    public int Id { get; }

    public string Name { get; }

    public int PageSize => _pageSize;

    /// <summary>The RX queue this pool serves (-1 when none).</summary>
    public int QueueIndex => _options.QueueIndex;

    public bool IsReadable => !_unreadable;

    public IDmaDevice? Device => _device;

    public IMemoryProvider MemoryProvider => _provider;

    public PagePoolState State => (PagePoolState)Volatile.Read(ref _state);

    /// <summary>Hold − release: every page the pool is accountable for, its own cache and ring included.</summary>
    public long Inflight
    {
        get
        {
            // Release first: every page released by then was held before, so the difference is never negative.
            long released = Interlocked.Read(ref _releaseCount) & ~ReleasedAfterSnapshotMark;
            return Volatile.Read(ref _holdCount) - released;
        }
    }

    /// <summary>
    /// The pool that lent <paramref name="netmem"/>, to return it; throws <see cref="DoubleReturnException"/> if the
    /// handle was returned and its pool has since been released, <see cref="InvalidNetmemException"/> if no pool
    /// ever lent it.
    /// </summary>
    public static PagePool OwnerOf(NetmemRef netmem) => netmem.Pool ?? throw NoLivePool(netmem, UseOfHandle.Return);

    /// <summary>The pool that lent <paramref name="netmem"/>, to access it: a returned handle is a use after return.</summary>
    internal static PagePool OwnerForAccess(NetmemRef netmem) => netmem.Pool ?? throw NoLivePool(netmem, UseOfHandle.Access);

    /// <summary>
    /// Why a handle has no pool: its block is back in the table (its pool was released) and the page moved on
    /// since the handle's lending, which is a use of a handle already returned; or it never named a lending.
    /// </summary>
    private static NetmemMisuseException NoLivePool(NetmemRef netmem, UseOfHandle use)
    {
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        return block is not null && ItemState.Precedes(netmem.Generation, GenerationNow(block, netmem))
            ? AlreadyReturned(netmem, use, "its pool has since been released")
            : new InvalidNetmemException($"{netmem} names no page of any live pool.");
    }

    /// <summary>
    /// The one refusal of a handle whose lending is over, whatever became of its pool (alive, released, or its block
    /// serving another pool): a second return is a double return, any other use is a use after return.
    /// </summary>
    private static NetmemMisuseException AlreadyReturned(NetmemRef netmem, UseOfHandle use, string since) =>
        use == UseOfHandle.Return
            ? new DoubleReturnException($"{netmem} was already returned; {since}.")
            : new UseAfterReturnException($"{netmem} no longer owns its page: it was returned; {since}.");

    public PagePoolStats GetStats()
    {
        PagePoolDestroyReport? report = Volatile.Read(ref _destroyReport);
        return new PagePoolStats
        {
            AllocFast = Volatile.Read(ref _allocFast),
            AllocSlow = Volatile.Read(ref _allocSlow),
            AllocEmpty = Volatile.Read(ref _allocEmpty),
            AllocRefill = Volatile.Read(ref _allocRefill),
            AllocWaive = Volatile.Read(ref _allocWaive),
            RecycleCached = Volatile.Read(ref _recycleCached),
            RecycleCacheFull = Volatile.Read(ref _recycleCacheFull),
            RecycleRing = _ring.TotalEnqueued,
            RecycleRingFull = _recycleRingFull.Read(),
            RecycleReleasedRefcount = _recycleReleasedRefcount.Read(),
            Hold = Volatile.Read(ref _holdCount),
            Release = Interlocked.Read(ref _releaseCount) & ~ReleasedAfterSnapshotMark,
            MapFailures = Volatile.Read(ref _mapFailures),
            ProviderFailures = Volatile.Read(ref _providerFailures),
            LateReturns = _lateReturns.Read(),
            InflightAtDestroy = report?.InflightAtDestroy ?? 0,
            UnmappedByDestroy = report?.UnmappedByDestroy ?? 0,
            RevokedWithDomain = Interlocked.Read(ref _revokedClaims),
            DeviceCallFailures = Interlocked.Read(ref _deviceCallFailures),
            DetachTime = report?.DetachTime,
        };
    }

    public PagePoolInfo GetInfo()
    {
        long inflight = Inflight;
        PagePoolState state = State;
        DateTimeOffset? detached = Volatile.Read(ref _destroyReport)?.DetachTime;
        TimeSpan? stalledFor = state == PagePoolState.Detached && detached is { } at ? DateTimeOffset.UtcNow - at : null;
        return new PagePoolInfo(Id, Name, _device?.Name, _options.QueueIndex, state, inflight, inflight * _pageSize, detached, stalledFor);
    }

    /// <summary>The pages now lent out, with allocation sites when <see cref="LeakDetectionMode.Paranoid"/> is on.</summary>
    public IReadOnlyList<OutstandingAllocation> GetOutstandingAllocations()
    {
        var outstanding = new OutstandingAllocationList((int)Math.Clamp(Inflight, 0, Array.MaxLength), _captureAllocationSites);
        foreach (ItemBlock block in SnapshotBlocks())
        {
            // Once this pool is released its blocks go back to the table and may already serve another pool.
            if (block.Owner != this)
            {
                continue;
            }

            for (int i = 0; i < ItemBlock.ItemsPerBlock; i++)
            {
                long state = Volatile.Read(ref block.Slots[i].State);
                long lifecycle = ItemState.LifecycleOf(state);
                if (lifecycle is ItemState.Lent or ItemState.LentAsFragments)
                {
                    var netmem = new NetmemRef(block.FirstItemId + i, ItemState.GenerationOf(state), _unreadable);
                    outstanding.Add(netmem, block.AllocationSites?[i]);
                }
            }
        }

        return outstanding;
    }

    /// <summary>The page's bus address for the device, while <paramref name="netmem"/> owns it.</summary>
    /// <exception cref="PageNotMappedException">The page is not mapped (no device, or destroy or a revocation ended
    /// its mapping).</exception>
    /// <exception cref="NetmemMisuseException">The handle does not own a page of this pool.</exception>
    public ulong GetDmaAddress(NetmemRef netmem)
    {
        (ItemBlock block, int index) = ResolveOwned(netmem);
        ref PageMetadata page = ref block.Pages[index];
        ulong dmaAddress = page.DmaAddress;
        if (Volatile.Read(ref page.Mapped) != PageMetadata.MappedUnclaimed)
        {
            throw new PageNotMappedException(
                $"{netmem} is not mapped for the device: the pool has no device, or destroy or a revocation of device access ended its mapping.");
        }

        return dmaAddress;
    }

    /// <summary>
    /// The page's bus address without exceptions: true, with the address, when <paramref name="netmem"/> owns a
    /// lent page of this pool (whole or fragmented) that is currently mapped; false for anything else, including
    /// default, forged, returned and foreign handles. With inflight tracking off, ownership is not checked.
    /// </summary>
    /// <remarks>A snapshot: a page reported mapped may be unmapped by destroy right after.</remarks>
    public bool TryGetDmaAddress(NetmemRef netmem, out ulong dmaAddress)
    {
        dmaAddress = 0;
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        if (block is null || block.Owner != this || netmem.IsReadable == _unreadable)
        {
            return false;
        }

        int index = netmem.ItemIndex;
        if (_tracking && (Volatile.Read(ref block.Slots[index].State) & ~1L) != ItemState.Make(netmem.Generation, ItemState.Lent))
        {
            return false;
        }

        ref PageMetadata page = ref block.Pages[index];
        ulong address = page.DmaAddress;
        if (Volatile.Read(ref page.Mapped) != PageMetadata.MappedUnclaimed)
        {
            return false;
        }

        dmaAddress = address;
        return true;
    }

    /// <summary>
    /// Syncs a range of an owned page for the CPU before reading what the device wrote. Returns false, doing
    /// nothing, once destroy has detached the pool from the device or its device access was revoked (no device call
    /// is allowed then), or when the page is no longer mapped.
    /// </summary>
    /// <remarks>If the device throws, the failure is counted (<see cref="PagePoolStats.DeviceCallFailures"/>) and the
    /// exception reaches the caller; the page stays owned and mapped.</remarks>
    public bool SyncForCpu(NetmemRef netmem, int offset, int length)
    {
        (ItemBlock block, int index) = ResolveOwned(netmem);
        if ((uint)offset > (uint)_pageSize || (uint)length > (uint)(_pageSize - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"Range {offset}+{length} is outside the {_pageSize}-byte page.");
        }

        if (_device is null || !_device.NeedsSync)
        {
            return true;
        }

        if (!_deviceGate.TryEnter())
        {
            return false;
        }

        try
        {
            ref PageMetadata page = ref block.Pages[index];
            if (Volatile.Read(ref page.Mapped) != PageMetadata.MappedUnclaimed)
            {
                return false;
            }

            _device.SyncForCpu(page.DmaAddress, offset, length, _dmaDirection);
            return true;
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _deviceCallFailures);
            throw;
        }
        finally
        {
            _deviceGate.Exit();
        }
    }

    /// <summary>
    /// Takes an extra reference to an owned page's memory (see <see cref="PageReference"/>). The page will be
    /// released from the pool instead of recycled when it is returned.
    /// </summary>
    public PageReference AcquirePageReference(NetmemRef netmem)
    {
        (ItemBlock block, int index) = ResolveOwned(netmem);
        ulong page = block.Slots[index].Page;
        _provider.AddPageReference(page);
        Interlocked.Increment(ref block.Pages[index].ExternalReferences);
        return new PageReference(_provider, page);
    }

    public override string ToString() => $"{Name} (id {Id}, {State}, inflight {Inflight})";

    /// <summary>
    /// A page's bytes straight from its handle (<see cref="NetmemRef.GetSpan"/>): the block is looked up once and
    /// names the pool, instead of once to find the pool and again inside it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Span<byte> GetSpanOf(NetmemRef netmem)
    {
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        PagePool? owner = block?.Owner;
        if (owner is null || netmem.IsReadable == owner._unreadable)
        {
            throw NoSpan(netmem, owner);
        }

        return owner.SpanOfLentPage(block!, netmem);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NetmemMisuseException NoSpan(NetmemRef netmem, PagePool? owner) =>
        owner is null
            ? NoLivePool(netmem, UseOfHandle.Access)
            : owner.WrongMemoryKind(netmem);

    internal Span<byte> GetSpan(NetmemRef netmem) => SpanOfLentPage(ResolveBlock(netmem, UseOfHandle.Access), netmem);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe Span<byte> SpanOfLentPage(ItemBlock block, NetmemRef netmem)
    {
        int index = CheckLent(block, netmem);
        ThrowIfUnreadable(netmem);
        ulong page = block.Slots[index].Page;

        // The sealed host provider is called directly (inlined): an interface dispatch here was a tenth of the
        // fast path's time.
        nint address = _hostPages is not null ? _hostPages.GetHostAddress(page) : _provider.GetHostAddress(page);
        return new Span<byte>((void*)address, _pageSize);
    }

    /// <summary>
    /// Resolves a handle that must own a lent page of this pool (whole or fragmented); throws the specific misuse
    /// error otherwise. With tracking off only the block and owner are checked.
    /// </summary>
    private (ItemBlock Block, int Index) ResolveOwned(NetmemRef netmem)
    {
        ItemBlock block = ResolveBlock(netmem, UseOfHandle.Access);
        return (block, CheckLent(block, netmem));
    }

    /// <summary>Checks the handle still owns its lent page (tracking on); returns the item index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CheckLent(ItemBlock block, NetmemRef netmem)
    {
        int index = netmem.ItemIndex;
        if (_tracking)
        {
            // Lent (2) and LentAsFragments (3) differ only in bit 0, so one compare checks generation and lifecycle.
            long state = Volatile.Read(ref block.Slots[index].State);
            if ((state & ~1L) != ItemState.Make(netmem.Generation, ItemState.Lent))
            {
                throw NotLent(netmem, state);
            }
        }

        return index;
    }

    /// <summary>
    /// Why an accessor refuses a handle of this pool whose item is not lent at its generation, decided as a return
    /// decides it: a generation behind the item's is a lending that ended (use after return); the same generation
    /// with the page not lent, or one ahead, is a lending that never happened (forged).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NetmemMisuseException NotLent(NetmemRef netmem, long state)
    {
        uint current = ItemState.GenerationOf(state);
        return ItemState.Precedes(netmem.Generation, current)
            ? new UseAfterReturnException($"{netmem} no longer owns its page: it was returned, and the page is now at generation {current}.")
            : new InvalidNetmemException($"{netmem} names a lending that never happened: the handle is forged or corrupted.");
    }

    /// <summary>
    /// The block of a handle this pool lent, on every return and span; the checks are inline and the reasons for a
    /// refusal are worked out out of line, so the common case stays a few instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ItemBlock ResolveBlock(NetmemRef netmem, UseOfHandle use)
    {
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        if (block is null || block.Owner != this || netmem.IsReadable == _unreadable)
        {
            throw Unresolvable(netmem, block, use);
        }

        return block;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Exception Unresolvable(NetmemRef netmem, ItemBlock? block, UseOfHandle use)
    {
        if (netmem.IsDefault)
        {
            return new InvalidNetmemException("The default NetmemRef names no page.");
        }

        if (block is null)
        {
            return new InvalidNetmemException($"{netmem} names no item block: the handle is forged or corrupted.");
        }

        PagePool? owner = block.Owner;
        return owner != this
            ? ForeignHandle(netmem, block, owner, use)
            : WrongMemoryKind(netmem);
    }

    private InvalidNetmemException WrongMemoryKind(NetmemRef netmem) =>
        new($"{netmem} has the wrong memory kind for {Name}: the handle is forged or corrupted.");

    /// <summary>The generation the handle's item is at now, to tell a stale handle from a forged one.</summary>
    private static uint GenerationNow(ItemBlock block, NetmemRef netmem) =>
        ItemState.GenerationOf(Volatile.Read(ref block.Slots[netmem.ItemIndex].State));

    private Exception ForeignHandle(NetmemRef netmem, ItemBlock block, PagePool? owner, UseOfHandle use)
    {
        uint current = GenerationNow(block, netmem);
        if (owner is not null && current == netmem.Generation)
        {
            return new WrongPoolException($"{netmem} belongs to {owner.Name} (id {owner.Id}), not to {Name} (id {Id}).");
        }

        return ItemState.Precedes(netmem.Generation, current)
            ? AlreadyReturned(netmem, use, $"its page has since left {Name}")
            : new InvalidNetmemException($"{netmem} names no page lent by {Name}: the handle is forged or corrupted.");
    }

    /// <summary>What a caller does with a handle, which names the refusal of a handle whose lending is over.</summary>
    private enum UseOfHandle
    {
        Access,
        Return,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfUnreadable(NetmemRef netmem)
    {
        if (_unreadable)
        {
            throw Unreadable(netmem);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private UnreadableNetmemException Unreadable(NetmemRef netmem) =>
        new($"{netmem} is unreadable device memory from {Name}; it has no host span.");

    private ItemBlock[] SnapshotBlocks()
    {
        lock (_blocks)
        {
            return _blocks.ToArray();
        }
    }
}

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

    // Set in the release counter by destroy's snapshot; every release after it sees the bit in its own increment.
    private const long ReleasedAfterSnapshotMark = 1L << 62;

    // Every field of the pool, grouped by who writes it; the partial files (allocation, return, fragments, destroy,
    // resolution) declare none of their own.

    // Construction: set by the constructor, never written again. (The ring, the released list, the gate and the
    // striped counters they name are shared with returning threads; each carries its own concurrency argument.)
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
    private readonly int[] _cache = new int[AllocCacheSize];
    private readonly RecycleRing _ring;
    private readonly ReleasedItemList _releasedItems = new();
    private readonly DeviceAccessGate _deviceGate = new();
    private readonly DomainTeardownQuarantine _awaitingDomainTeardown = new();
    private readonly StripedCounter _recycleRingFull = new();
    private readonly StripedCounter _recycleReleasedRefcount = new();
    private readonly StripedCounter _lateReturns = new();
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<ItemBlock> _blocks = new(); // grown by the owner, snapshotted by anyone, under its own lock

    // Owner only: plain fields, written by the allocation side's single owner inside _ownerSection (so a destroy
    // racing a still-running owner waits for it; see OwnerSection), and after that by destroy alone. Other threads
    // read the counters for stats (torn-free 64-bit reads on the 64-bit runtimes this targets).
    private OwnerSection _ownerSection;
    private int _cacheCount;
    private int _holdItems = ReleasedItemList.Empty;
    private int _preferredNode;
    private bool _preferredNodeChanged;    // sticky; see RefillFromRing
    private int _fragmentItemId = -1;      // the page being carved into fragments, or -1
    private uint _fragmentGeneration;
    private int _fragmentNextGranule;
    private long _holdCount;               // pages ever brought in; published by volatile store, read by anyone
    private long _allocFast;
    private long _allocSlow;
    private long _allocEmpty;
    private long _allocRefill;
    private long _allocWaive;
    private long _recycleCached;
    private long _recycleCacheFull;
    private long _mapFailures;
    private long _providerFailures;

    // Any thread, by atomics only: the state (Active → Destroying by destroy's CAS, → Detached by destroy,
    // → Released by whichever thread completes the release, by CAS), the release count and failure counters, and
    // the report counters bumped by releasers that come after destroy's snapshot (see PagePool.Destroy.cs).
    private int _state;
    private long _releaseCount;            // bit 62 is destroy's snapshot mark, masked on every read
    private long _revokedClaims;
    private long _deviceCallFailures;
    private long _returnedDuringDestroy;
    private long _revokedReturnsDuringDestroy;

    // Destroy: written by the one destroying thread (and the release-retry timer it starts, which never overlaps
    // with itself: _retryBusy); read by anyone through volatile reads.
    private PagePoolDestroyReport? _destroyReport;
    private Timer? _releaseRetryTimer;
    private bool _walkComplete;
    private int _retryBusy;
    private long _nextStallReportTicks;

    /// <summary>Creates an active pool with <paramref name="options"/> (validated here), lists it in <see cref="PagePoolRegistry"/> and starts publishing its metrics.</summary>
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

    /// <summary>The pool's id in <see cref="PagePoolRegistry"/>, unique in the process.</summary>
    public int Id { get; }

    /// <summary>The name for introspection and metrics: <see cref="PagePoolOptions.Name"/>, or <c>pool-</c> and the id.</summary>
    public string Name { get; }

    /// <summary>Bytes per page.</summary>
    public int PageSize => _pageSize;

    /// <summary>The RX queue this pool serves (-1 when none).</summary>
    public int QueueIndex => _options.QueueIndex;

    /// <summary>False when the memory provider lends unreadable device memory, whose handles have no span.</summary>
    public bool IsReadable => !_unreadable;

    /// <summary>The device the pages are mapped for, or null for a pool that maps nothing.</summary>
    public IDmaDevice? Device => _device;

    /// <summary>Where the pool's pages come from: the one given in the options, or the pool's private provider.</summary>
    public IMemoryProvider MemoryProvider => _provider;

    /// <summary>Where the pool is in its lifecycle.</summary>
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

    /// <summary>A snapshot of the pool's counters (the kernel's <c>page_pool_get_stats</c>); each is read on its own, so they are not one atomic cut.</summary>
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
            AwaitingDomainTeardown = _awaitingDomainTeardown.Waiting,
            DeviceCallFailures = Interlocked.Read(ref _deviceCallFailures),
            DetachTime = report?.DetachTime,
        };
    }

    /// <summary>The pool's id, device, queue, state, inflight and, once destroyed, how long it has waited for its pages (netlink <c>page-pool-get</c>).</summary>
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
        var range = new SingleSyncRange(netmem, offset, length);
        return SyncForCpu(new ReadOnlySpan<SingleSyncRange>(in range)) == 1;
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

    /// <summary>The name, id, state and inflight count, for logs.</summary>
    public override string ToString() => $"{Name} (id {Id}, {State}, inflight {Inflight})";

    private ItemBlock[] SnapshotBlocks()
    {
        lock (_blocks)
        {
            return _blocks.ToArray();
        }
    }
}

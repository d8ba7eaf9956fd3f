namespace Netmem.Pool.Memory;

/// <summary>
/// The bookkeeping shared by the shipped providers: page ids grouped in segments (one backing allocation each),
/// a per-page reference count, a free list, a capacity, and an injectable allocation failure.
/// </summary>
/// <remarks>
/// A page id is <c>segment * PagesPerSegment + index</c>, so both the reference count and the host address are found
/// by arithmetic. Segments are only ever added, and the segment table is republished as a new array when it grows,
/// so readers index it without the lock. Allocation and free take the lock: they are the pool's slow path, the model
/// of the kernel's page allocator, not its hot path.
/// </remarks>
public abstract class SegmentedPageProvider : IMemoryProvider
{
    private readonly object _lock = new();
    private readonly long _maxPages;
    private int[][] _referenceCounts = [];
    private ulong[] _freePages = new ulong[64];
    private int _freeCount;
    private bool _retired;
    private long _allocationCalls;
    private long _injectedFailures;
    private long _outstandingPages;

    /// <summary>Sets up an empty provider of <paramref name="pageSize"/>-byte pages (a power of two, at least 256), backed <paramref name="pagesPerSegment"/> pages (a power of two) at a time, up to <paramref name="maxPages"/> pages.</summary>
    protected SegmentedPageProvider(int pageSize, int pagesPerSegment, long maxPages)
    {
        if (pageSize < 256 || !int.IsPow2(pageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "Page size must be a power of two of at least 256 bytes.");
        }

        if (pagesPerSegment <= 0 || !int.IsPow2(pagesPerSegment))
        {
            throw new ArgumentOutOfRangeException(nameof(pagesPerSegment), pagesPerSegment, "Pages per segment must be a positive power of two.");
        }

        if (maxPages <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPages), maxPages, "Capacity must be at least one page.");
        }

        PageSize = pageSize;
        PagesPerSegment = pagesPerSegment;
        SegmentShift = System.Numerics.BitOperations.Log2((uint)pagesPerSegment);
        _maxPages = maxPages;
    }

    /// <inheritdoc/>
    public int PageSize { get; }

    /// <inheritdoc/>
    public abstract bool IsReadable { get; }

    /// <summary>Pages per backing allocation.</summary>
    public int PagesPerSegment { get; }

    /// <summary>The most pages this provider will ever hand out at once.</summary>
    public long Capacity => _maxPages;

    /// <summary>Pages allocated and not yet freed (any reference still held).</summary>
    public long OutstandingPages => Interlocked.Read(ref _outstandingPages);

    /// <summary>Allocations refused by <see cref="AllocationFailureInjector"/>.</summary>
    public long InjectedFailures => Interlocked.Read(ref _injectedFailures);

    /// <summary>Decides, per allocation number (0, 1, 2, …), whether that allocation fails.</summary>
    public Func<long, bool>? AllocationFailureInjector { get; set; }

    /// <summary>Log2 of <see cref="PagesPerSegment"/>: a page id shifted right by it is the page's segment.</summary>
    protected int SegmentShift { get; }

    /// <summary>Segments backed so far.</summary>
    protected int SegmentCount => Volatile.Read(ref _referenceCounts).Length;

    /// <inheritdoc/>
    public bool TryAllocatePage(out ulong pageId)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _retired), this);
        long call = Interlocked.Increment(ref _allocationCalls) - 1;
        if (AllocationFailureInjector?.Invoke(call) == true)
        {
            Interlocked.Increment(ref _injectedFailures);
            pageId = 0;
            return false;
        }

        lock (_lock)
        {
            if (_freeCount == 0 && !TryGrowLocked())
            {
                pageId = 0;
                return false;
            }

            pageId = _freePages[--_freeCount];
        }

        Volatile.Write(ref ReferenceCount(pageId), 1);
        Interlocked.Increment(ref _outstandingPages);
        return true;
    }

    /// <inheritdoc/>
    public abstract nint GetHostAddress(ulong pageId);

    /// <inheritdoc/>
    public void AddPageReference(ulong pageId)
    {
        int before = Interlocked.Increment(ref ReferenceCount(pageId)) - 1;
        if (before <= 0)
        {
            Interlocked.Decrement(ref ReferenceCount(pageId));
            throw new InvalidOperationException($"Page {pageId} is free; it cannot gain a reference.");
        }
    }

    /// <inheritdoc/>
    public void ReleasePage(ulong pageId)
    {
        int after = Interlocked.Decrement(ref ReferenceCount(pageId));
        if (after > 0)
        {
            return;
        }

        if (after < 0)
        {
            Interlocked.Increment(ref ReferenceCount(pageId));
            throw new InvalidOperationException($"Page {pageId} is already free.");
        }

        lock (_lock)
        {
            _freePages[_freeCount++] = pageId;
        }

        if (Interlocked.Decrement(ref _outstandingPages) == 0)
        {
            OnLastPageFreed();
        }
    }

    /// <summary>Called, outside the lock, by the release that brings the outstanding count to 0.</summary>
    protected virtual void OnLastPageFreed()
    {
    }

    /// <summary>The current reference count of a page (0 when free).</summary>
    public int GetReferenceCount(ulong pageId) => Volatile.Read(ref ReferenceCount(pageId));

    /// <summary>Refuses every later allocation; a provider whose memory is about to be freed calls it.</summary>
    protected void Retire() => Volatile.Write(ref _retired, true);

    /// <summary>Provides the backing memory of a new segment; false if it cannot.</summary>
    protected abstract bool TryAddSegmentBacking(int segment);

    private ref int ReferenceCount(ulong pageId) =>
        ref Volatile.Read(ref _referenceCounts)[(int)(pageId >> SegmentShift)][(int)(pageId & (ulong)(PagesPerSegment - 1))];

    private bool TryGrowLocked()
    {
        int segment = _referenceCounts.Length;
        long pagesAfter = (long)(segment + 1) * PagesPerSegment;
        int pagesToAdd = (int)Math.Min(PagesPerSegment, _maxPages - ((long)segment * PagesPerSegment));
        if (pagesToAdd <= 0 || !TryAddSegmentBacking(segment))
        {
            return false;
        }

        int[][] grown = new int[segment + 1][];
        Array.Copy(_referenceCounts, grown, segment);
        grown[segment] = new int[PagesPerSegment];
        Volatile.Write(ref _referenceCounts, grown);

        // Every page can be free at once, so the free list holds the provider's whole size. It grows geometrically:
        // sized exactly, a pool growing a segment at a time would copy the whole list on every segment.
        if (_freePages.Length < pagesAfter)
        {
            Array.Resize(ref _freePages, (int)Math.Min(Math.Max(pagesAfter, 2L * _freePages.Length), Array.MaxLength));
        }

        ulong first = (ulong)segment * (ulong)PagesPerSegment;
        for (int i = pagesToAdd - 1; i >= 0; i--)
        {
            _freePages[_freeCount++] = first + (ulong)i;
        }

        return true;
    }
}

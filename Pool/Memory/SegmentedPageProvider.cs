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
    private long _poisonViolations;
    private long _poisonedPagesRetired;
    private readonly bool _poisonFreedPages;

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

    /// <summary>
    /// Fill every free page with <see cref="PoisonByte"/> and check the fill when the page is handed out again and in
    /// <see cref="VerifyFreePages"/>: a changed byte means something wrote into the page after it was freed, such as a
    /// device through a mapping that outlived the page's release ("device wrote after unmap"). Off by default; only
    /// for readable memory. Costs one fill per page freed and one scan per page allocated (the provider's slow path),
    /// nothing on a pool's recycle path.
    /// </summary>
    /// <remarks>
    /// <para>Why the provider and not the pool: only the provider knows when a page's memory is really free (its last
    /// reference goes, which may be a <c>PageReference</c> that outlived the pool's release) and when it is reused
    /// (by whichever pool shares the provider). A pool could only check what it frees itself against what it
    /// allocates itself, and would miss the reuse that matters.</para>
    /// <para>A page whose poison changed is counted (<see cref="PoisonViolations"/>), reported
    /// (<see cref="OnPoisonViolation"/>) and retired: never handed out again, and its memory never given back to the
    /// operating system, since whatever wrote into it may write again.</para>
    /// </remarks>
    /// <exception cref="NotSupportedException">Set on a provider of unreadable memory.</exception>
    public bool PoisonFreedPages
    {
        get => _poisonFreedPages;
        init
        {
            if (value && !IsReadable)
            {
                throw new NotSupportedException("Unreadable memory cannot be poisoned: the host cannot write or read it.");
            }

            _poisonFreedPages = value;
        }
    }

    /// <summary>The byte a free page is filled with when <see cref="PoisonFreedPages"/> is on (the kernel's <c>POISON_FREE</c>).</summary>
    public const byte PoisonByte = 0x6B;

    /// <summary>Free pages found written to (poison changed), on reuse or by <see cref="VerifyFreePages"/>.</summary>
    public long PoisonViolations => Interlocked.Read(ref _poisonViolations);

    /// <summary>Pages taken out of use because their poison changed (see <see cref="PoisonFreedPages"/>).</summary>
    public long PoisonedPagesRetired => Interlocked.Read(ref _poisonedPagesRetired);

    /// <summary>
    /// Told of each free page found written to, on the thread that found it (an allocating pool, or the caller of
    /// <see cref="VerifyFreePages"/> or of the disposal). It must not throw; an exception it throws is ignored.
    /// </summary>
    public Action<PoisonViolation>? OnPoisonViolation { get; set; }

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

        while (true)
        {
            lock (_lock)
            {
                if (_freeCount == 0 && !TryGrowLocked())
                {
                    pageId = 0;
                    return false;
                }

                pageId = _freePages[--_freeCount];
            }

            // Popped, the page is this thread's alone: check it outside the lock, and retire it if written to.
            if (!_poisonFreedPages || FindPoisonViolation(pageId, foundOnReuse: true) is not { } violation)
            {
                break;
            }

            Interlocked.Increment(ref _poisonedPagesRetired);
            Report([violation]);
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

        // The last reference is gone and the page is not on the free list yet: this thread alone owns its memory.
        if (_poisonFreedPages)
        {
            Poison(pageId);
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

    /// <summary>
    /// Checks the poison of every free page (when <see cref="PoisonFreedPages"/> is on; the end of a run calls it);
    /// each page written to is counted, reported and retired. Returns how many it found. A provider whose memory was
    /// already freed has nothing left to check (it checked at its disposal) and returns 0.
    /// </summary>
    public long VerifyFreePages() => CheckFreePages(retire: false);

    /// <summary>
    /// <see cref="VerifyFreePages"/>, then retires the provider in the same lock, so no check runs once the caller goes on
    /// to free the memory. Returns how many pages were found written to.
    /// </summary>
    protected long VerifyFreePagesAndRetire() => CheckFreePages(retire: true);

    private long CheckFreePages(bool retire)
    {
        var found = new List<PoisonViolation>();
        lock (_lock)
        {
            if (_poisonFreedPages && !Volatile.Read(ref _retired))
            {
                // Free pages stay free while the lock is held; a page written to leaves the list (swap with the last).
                for (int i = _freeCount - 1; i >= 0; i--)
                {
                    if (FindPoisonViolation(_freePages[i], foundOnReuse: false) is { } violation)
                    {
                        found.Add(violation);
                        _freePages[i] = _freePages[--_freeCount];
                        Interlocked.Increment(ref _poisonedPagesRetired);
                    }
                }
            }

            if (retire)
            {
                Retire();
            }
        }

        Report(found);
        return found.Count;
    }

    private unsafe void Poison(ulong pageId) =>
        new Span<byte>((void*)GetHostAddress(pageId), PageSize).Fill(PoisonByte);

    private unsafe PoisonViolation? FindPoisonViolation(ulong pageId, bool foundOnReuse)
    {
        nint address = GetHostAddress(pageId);
        var page = new ReadOnlySpan<byte>((void*)address, PageSize);
        int first = page.IndexOfAnyExcept(PoisonByte);
        if (first < 0)
        {
            return null;
        }

        int changed = page.Length - page.Count(PoisonByte);
        return new PoisonViolation(pageId, address, first, changed, foundOnReuse);
    }

    private void Report(List<PoisonViolation> violations)
    {
        foreach (PoisonViolation violation in violations)
        {
            Interlocked.Increment(ref _poisonViolations);
            try
            {
                OnPoisonViolation?.Invoke(violation);
            }
            catch (Exception)
            {
                // The provider's state is already consistent; a failing observer must not break an allocation.
            }
        }
    }

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
            if (_poisonFreedPages)
            {
                Poison(first + (ulong)i);
            }

            _freePages[_freeCount++] = first + (ulong)i;
        }

        return true;
    }
}

using System.Runtime.InteropServices;

namespace Netmem.Pool.Memory;

/// <summary>
/// Readable host pages, carved from large page-aligned native chunks (2 MiB by default) rather than one native
/// allocation per page, the way the kernel's buddy allocator hands out order-0 pages from larger blocks.
/// </summary>
/// <remarks>
/// Chunks are freed only by <see cref="Dispose"/>, and only once every page is free again. A stale
/// <see cref="NetmemRef"/> is rejected by the pool's generation check; and because the memory itself outlives every
/// page handed out, even a span taken while a page was owned and used too late reads pool memory, never memory
/// returned to the operating system.
/// </remarks>
public sealed class HostPageProvider : SegmentedPageProvider, IDisposable
{
    private readonly int _chunkBytes;
    private nint[] _chunks = [];
    private bool _disposed;
    private int _disposeWhenEmpty;
    private int _disposing;

    /// <summary>Creates a provider of <paramref name="pageSize"/>-byte pages, allocating native memory <paramref name="chunkBytes"/> (a whole number of pages) at a time, as needed, up to <paramref name="maxPages"/> pages.</summary>
    public HostPageProvider(int pageSize = 4096, int chunkBytes = 2 << 20, long maxPages = 1L << 24)
        : base(pageSize, ValidatedPagesPerChunk(pageSize, chunkBytes), maxPages)
    {
        _chunkBytes = chunkBytes;
    }

    /// <inheritdoc/>
    public override bool IsReadable => true;

    /// <inheritdoc/>
    public override nint GetHostAddress(ulong pageId) =>
        Volatile.Read(ref _chunks)[(int)(pageId >> SegmentShift)] + (nint)((long)(pageId & (ulong)(PagesPerSegment - 1)) * PageSize);

    /// <summary>Frees every chunk. Throws if any page is still allocated, so no live page loses its memory.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (OutstandingPages != 0)
        {
            throw new InvalidOperationException($"{OutstandingPages} pages are still allocated; the provider cannot free their memory.");
        }

        FreeChunksOnce();
    }

    /// <summary>
    /// Disposes now if no page is allocated, otherwise as soon as the last one is freed: a released pool that
    /// owns this provider calls it, since a <see cref="PageReference"/> may keep a page alive after the pool.
    /// </summary>
    /// <remarks>
    /// The flag is set and the count read with full fences here, and the last release decrements the count and reads
    /// the flag with full fences in <see cref="OnLastPageFreed"/>: whichever comes second sees the other's write, so
    /// at least one of them frees the memory, and the <c>_disposing</c> swap lets exactly one do it.
    /// </remarks>
    internal void DisposeWhenEmpty()
    {
        Interlocked.Exchange(ref _disposeWhenEmpty, 1);
        if (OutstandingPages == 0)
        {
            FreeChunksOnce();
        }
    }

    /// <inheritdoc/>
    protected override void OnLastPageFreed()
    {
        if (Volatile.Read(ref _disposeWhenEmpty) == 1)
        {
            FreeChunksOnce();
        }
    }

    private void FreeChunksOnce()
    {
        if (Interlocked.Exchange(ref _disposing, 1) == 0)
        {
            FreeChunks();
        }
    }

    /// <summary>
    /// The end of the provider's memory: with poisoning on, every free page is checked one last time (the provider is
    /// retired in the same lock, so no check can run on freed memory). A page ever found written to keeps every chunk
    /// alive: whatever wrote there may write again, and must not write into memory the process has given back.
    /// </summary>
    private void FreeChunks()
    {
        _disposed = true;
        VerifyFreePagesAndRetire();
        if (PoisonedPagesRetired == 0)
        {
            foreach (nint chunk in _chunks)
            {
                unsafe
                {
                    NativeMemory.AlignedFree((void*)chunk);
                }
            }
        }

        _chunks = [];
    }

    /// <inheritdoc/>
    protected override bool TryAddSegmentBacking(int segment)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        nint chunk;
        unsafe
        {
            chunk = (nint)NativeMemory.AlignedAlloc((nuint)_chunkBytes, (nuint)PageSize);
        }

        nint[] grown = new nint[segment + 1];
        Array.Copy(_chunks, grown, segment);
        grown[segment] = chunk;
        Volatile.Write(ref _chunks, grown);
        return true;
    }

    private static int ValidatedPagesPerChunk(int pageSize, int chunkBytes)
    {
        if (chunkBytes < pageSize || pageSize <= 0 || chunkBytes % pageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkBytes), chunkBytes, "A chunk must be a whole number of pages.");
        }

        return chunkBytes / pageSize;
    }
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;

namespace Netmem.Pool;

/// <summary>How a pool is created: the kernel's <c>struct page_pool_params</c>.</summary>
public sealed record PagePoolOptions
{
    private readonly int _poolSize = 1024;

    /// <summary>The largest page a pool hands out (1 MiB).</summary>
    public const int MaxPageSize = 1 << 20;

    /// <summary>The largest recycle ring; the kernel caps <c>pool_size</c> at 16384.</summary>
    public const int MaxPoolSize = 16384;

    /// <summary>
    /// Recycle-ring capacity per returning thread (each thread that returns pages has a ring of its own of this size);
    /// a power of two from 2 to <see cref="MaxPoolSize"/> (kernel default 1024).
    /// </summary>
    public int PoolSize
    {
        get => _poolSize;
        init
        {
            _poolSize = value;
            PoolSizeChosen = true;
        }
    }

    /// <summary>
    /// Whether the caller set <see cref="PoolSize"/> (even to its default), so that a runtime sizing rings for its
    /// consumers never overrides a size someone chose.
    /// </summary>
    internal bool PoolSizeChosen { get; private init; }

    /// <summary>Bytes per page; must equal the provider's page size. Default 4096.</summary>
    public int PageSize { get; init; } = 4096;

    /// <summary>
    /// The device pages are DMA-mapped for (<c>PP_FLAG_DMA_MAP</c>), or null for a pool that maps nothing.
    /// </summary>
    public IDmaDevice? Device { get; init; }

    /// <summary>The direction pages are mapped with: <see cref="Dma.DmaDirection.FromDevice"/> for RX (the default), bidirectional for XDP_TX.</summary>
    public DmaDirection DmaDirection { get; init; } = DmaDirection.FromDevice;

    /// <summary>Sync each recycled page for the device (<c>PP_FLAG_DMA_SYNC_DEV</c>); requires <see cref="Device"/>.</summary>
    public bool SyncForDevice { get; init; }

    /// <summary>Bytes synced for the device on recycle (<c>max_len</c>); 0 means the whole page after <see cref="SyncOffset"/>.</summary>
    public int MaxSyncLength { get; init; }

    /// <summary>Where in the page the device writes (<c>offset</c>).</summary>
    public int SyncOffset { get; init; }

    /// <summary>Where pages come from. Null gives the pool a private <see cref="HostPageProvider"/>.</summary>
    public IMemoryProvider? MemoryProvider { get; init; }

    /// <summary>
    /// The pool owns <see cref="MemoryProvider"/>: once released (every page back) it disposes it (a
    /// <see cref="HostPageProvider"/> as soon as its last page is free), as it does the private provider it makes when
    /// none is given. Leave false for a provider shared by several pools.
    /// </summary>
    public bool OwnsMemoryProvider { get; init; }

    /// <summary>
    /// Track every page in item blocks so destroy can unmap inflight pages and misuse is detected. Switch it off only
    /// to measure what tracking costs: without it a destroy with pages inflight leaves their mappings to leak.
    /// </summary>
    public bool TrackInflight { get; init; } = true;

    /// <summary>Whether each allocation records its stack for leak reports; off by default.</summary>
    public LeakDetectionMode LeakDetection { get; init; } = LeakDetectionMode.Disabled;

    /// <summary>
    /// Where the pool's instruments live: a meter this factory creates (pass a host's, from its services), or the
    /// process-wide <c>Netmem.PagePool</c> meter when null. Either way the pool publishes from its creation until
    /// its release, with nothing to call (see <see cref="PagePoolMetrics"/>).
    /// </summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>Name for introspection and metrics.</summary>
    public string? Name { get; init; }

    /// <summary>The RX queue this pool serves, for introspection (-1 when none).</summary>
    public int QueueIndex { get; init; } = -1;

    /// <summary>How often a destroyed pool with pages still inflight retries its release (kernel: 1 s).</summary>
    public TimeSpan ReleaseRetryInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a destroyed pool may wait for its pages before it reports a stall (kernel: 60 s).</summary>
    public TimeSpan StallWarningAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Called, from the retry timer, each time a stall is reported.</summary>
    public Action<PagePoolInfo>? OnStalled { get; init; }

    /// <summary>
    /// Where a destroyed pool still waiting for its pages logs the stall (category <c>Netmem.Pool.PagePool</c>, level
    /// warning, in the kernel's words: <c>stalled pool shutdown: N inflight, T s</c>), repeating with back-off (see
    /// <see cref="StallLogFirstAfter"/>, <see cref="StallLogMaxInterval"/>). Null: the pool logs nothing itself (inside
    /// the actor runtime its pool actor logs the stall through Akka's log instead).
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>How long a destroyed pool waits for its pages before its first stall log; each later log waits twice as long as the one before.</summary>
    public TimeSpan StallLogFirstAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two stall logs of one pool (the back-off stops doubling there).</summary>
    public TimeSpan StallLogMaxInterval { get; init; } = TimeSpan.FromSeconds(60);

    internal void Validate()
    {
        if (PoolSize < 2 || PoolSize > MaxPoolSize || !int.IsPow2(PoolSize))
        {
            throw new ArgumentOutOfRangeException(nameof(PoolSize), PoolSize, $"PoolSize must be a power of two from 2 to {MaxPoolSize}.");
        }

        if (PageSize < 256 || PageSize > MaxPageSize || !int.IsPow2(PageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, $"PageSize must be a power of two from 256 to {MaxPageSize}.");
        }

        if (MemoryProvider is not null && MemoryProvider.PageSize != PageSize)
        {
            throw new ArgumentException($"The memory provider's page size ({MemoryProvider.PageSize}) differs from PageSize ({PageSize}).", nameof(MemoryProvider));
        }

        if (SyncForDevice && Device is null)
        {
            throw new ArgumentException("SyncForDevice needs a Device to sync with.", nameof(SyncForDevice));
        }

        if (SyncOffset < 0 || SyncOffset >= PageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(SyncOffset), SyncOffset, "SyncOffset must lie inside the page.");
        }

        if (MaxSyncLength < 0 || SyncOffset + MaxSyncLength > PageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSyncLength), MaxSyncLength, "SyncOffset + MaxSyncLength must fit in the page.");
        }

        if (ReleaseRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReleaseRetryInterval), ReleaseRetryInterval, "ReleaseRetryInterval must be positive.");
        }

        if (StallWarningAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(StallWarningAfter), StallWarningAfter, "StallWarningAfter must be positive.");
        }

        if (StallLogFirstAfter <= TimeSpan.Zero || StallLogMaxInterval < StallLogFirstAfter)
        {
            throw new ArgumentOutOfRangeException(
                nameof(StallLogMaxInterval), StallLogMaxInterval, "StallLogFirstAfter must be positive and StallLogMaxInterval at least as long.");
        }

        if (!Enum.IsDefined(DmaDirection))
        {
            throw new ArgumentOutOfRangeException(nameof(DmaDirection), DmaDirection, "Unknown DMA direction.");
        }
    }
}

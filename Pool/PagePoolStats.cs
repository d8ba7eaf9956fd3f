namespace Netmem.Pool;

/// <summary>
/// A snapshot of a pool's counters, named as the kernel's <c>page_pool_stats</c> and destroy figures.
/// </summary>
/// <remarks>Read while the pool runs, the counters are each exact but not taken at one instant.</remarks>
public readonly record struct PagePoolStats
{
    /// <summary>Allocations served from the alloc cache.</summary>
    public long AllocFast { get; init; }

    /// <summary>Slow-path allocations: pages brought in from the memory provider (bulk).</summary>
    public long AllocSlow { get; init; }

    /// <summary>Refills that found the recycle ring empty.</summary>
    public long AllocEmpty { get; init; }

    /// <summary>Refills of the alloc cache from the recycle ring.</summary>
    public long AllocRefill { get; init; }

    /// <summary>Pages released at refill because they were not on the pool's preferred node.</summary>
    public long AllocWaive { get; init; }

    /// <summary>Returns recycled directly into the alloc cache.</summary>
    public long RecycleCached { get; init; }

    /// <summary>Direct recycles that found the alloc cache full.</summary>
    public long RecycleCacheFull { get; init; }

    /// <summary>Returns recycled through the recycle ring.</summary>
    public long RecycleRing { get; init; }

    /// <summary>Returns that found the ring full, so the page was released.</summary>
    public long RecycleRingFull { get; init; }

    /// <summary>Returns of pages with extra references, released instead of recycled.</summary>
    public long RecycleReleasedRefcount { get; init; }

    /// <summary>Pages brought into the pool (<c>pages_state_hold_cnt</c>).</summary>
    public long Hold { get; init; }

    /// <summary>Pages that left the pool (<c>pages_state_release_cnt</c>).</summary>
    public long Release { get; init; }

    /// <summary>Hold − Release: pages the pool is accountable for, including its cache and ring.</summary>
    public long Inflight => Hold - Release;

    /// <summary>Device map calls that failed.</summary>
    public long MapFailures { get; init; }

    /// <summary>Memory-provider allocations that failed.</summary>
    public long ProviderFailures { get; init; }

    /// <summary>Returns that arrived after destroy started.</summary>
    public long LateReturns { get; init; }

    /// <summary>Inflight when destroy started (0 before destroy).</summary>
    public long InflightAtDestroy { get; init; }

    /// <summary>Pages destroy unmapped while they were held elsewhere.</summary>
    public long UnmappedByDestroy { get; init; }

    /// <summary>
    /// Unmap claims taken without a device call because the pool's device access was revoked: mappings left to the
    /// device's domain teardown, by destroy's walk or by releases, whenever they happened (also after destroy
    /// returned, unlike <see cref="PagePoolDestroyReport.RevokedWithDomain"/>, which stops at the report).
    /// </summary>
    public long RevokedWithDomain { get; init; }

    /// <summary>
    /// Pages released whose mappings were left to the device's domain teardown, and whose memory the pool holds until
    /// that teardown has returned (<see cref="PagePool.ReleaseAfterDomainTeardown"/>): the device may still write
    /// into them, so they must not go back to the memory provider before. Not part of <see cref="Inflight"/> (they
    /// have left the pool's items); the pool is not <see cref="PagePoolState.Released"/> while any wait.
    /// </summary>
    public long AwaitingDomainTeardown { get; init; }

    /// <summary>
    /// Device calls (unmap, sync for the device or the CPU) that threw. Each is counted and never retried: a
    /// throwing unmap still ended its mapping's claim and the page was freed; a throwing sync on recycle released the
    /// page instead of recycling it. Map failures are counted in <see cref="MapFailures"/>.
    /// </summary>
    public long DeviceCallFailures { get; init; }

    /// <summary>When destroy detached the pool from its device, or null while attached.</summary>
    public DateTimeOffset? DetachTime { get; init; }
}

namespace Netmem.Pool;

/// <summary>What a destroy did. When <see cref="PagePool.Destroy"/> returns it, no device call for the pool is
/// made or running any more.</summary>
/// <param name="PoolId">The destroyed pool.</param>
/// <param name="InflightAtDestroy">Hold − release when destroy started, alloc cache and ring included.</param>
/// <param name="ReleasedFromCache">Pages destroy released from the alloc cache (and the page being fragmented).</param>
/// <param name="ReleasedFromRing">Pages destroy released from the recycle ring.</param>
/// <param name="UnmappedByDestroy">Pages held elsewhere that destroy unmapped.</param>
/// <param name="StillInflight">Pages still held elsewhere when destroy returned; each comes back as a late return.</param>
/// <param name="DetachTime">When the pool detached from its device.</param>
/// <param name="Duration">How long destroy took.</param>
/// <param name="Outstanding">The pages still held, with allocation sites when leak detection is on.</param>
public sealed record PagePoolDestroyReport(
    int PoolId,
    long InflightAtDestroy,
    long ReleasedFromCache,
    long ReleasedFromRing,
    long UnmappedByDestroy,
    long StillInflight,
    DateTimeOffset DetachTime,
    TimeSpan Duration,
    IReadOnlyList<OutstandingAllocation> Outstanding);

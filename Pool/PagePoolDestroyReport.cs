namespace Netmem.Pool;

/// <summary>What a destroy did. When <see cref="PagePool.Destroy"/> returns it, no device call for the pool is
/// made or running any more.</summary>
/// <remarks>
/// <para>The page figures partition <see cref="InflightAtDestroy"/> exactly, always, including under returns racing
/// destroy: <c>ReleasedFromCache + ReleasedFromRing + UnmappedByDestroy + RevokedWithDomain + StillInflight ==
/// InflightAtDestroy</c>. Each page of the snapshot is counted once, by the event that settled it for destroy
/// (see the design in <c>PagePool.Destroy.cs</c>); a page the walk unmapped and that came back before the report
/// is counted as unmapped only. With nothing revoked, <see cref="RevokedWithDomain"/> is 0 and the four other
/// terms add up alone.</para>
/// </remarks>
/// <param name="PoolId">The destroyed pool.</param>
/// <param name="InflightAtDestroy">Hold − release when destroy took its snapshot (after the owner left, so no page
/// is brought in later), alloc cache and ring included.</param>
/// <param name="ReleasedFromCache">Pages destroy released from the alloc cache (and the page being fragmented).</param>
/// <param name="ReleasedFromRing">Pages destroy released from the recycle ring, plus pages whose holders returned
/// them while destroy ran and that were released on that return path (ring full, extra references, or the pool
/// already destroying) before destroy's walk reached them: both went back through the return path.</param>
/// <param name="UnmappedByDestroy">Pages destroy's walk unmapped, which were held elsewhere (or on their way back)
/// when it reached them, whether or not they came back before the report.</param>
/// <param name="StillInflight">Pages of <see cref="InflightAtDestroy"/> that, when the report was made, destroy had
/// neither released, unmapped nor revoked: still held elsewhere (or on their way back, their release not yet
/// complete). On a pool without a device, or with inflight tracking off, that is every page still out; on a pool
/// whose walk ran, pages still out were unmapped by it and count there instead. Each comes back as a late return.
/// For how many pages are still out regardless of their mapping, see <see cref="HeldAtReport"/>.</param>
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
    IReadOnlyList<OutstandingAllocation> Outstanding)
{
    /// <summary>
    /// Pages of <see cref="InflightAtDestroy"/> whose mapping was left to the device's domain teardown because
    /// <see cref="PagePool.RevokeDeviceAccess"/> was called before destroy (or a releaser) could unmap them: their
    /// unmap claim was taken without a device call, so nothing unmaps them later. 0 when access was not revoked.
    /// </summary>
    public long RevokedWithDomain { get; init; }

    /// <summary>
    /// Pages still out when the report was made, whatever happened to their mapping: the pool's inflight (hold −
    /// release) at that moment. They come back as late returns; the pool is released when the last one does.
    /// </summary>
    public long HeldAtReport { get; init; }

    /// <summary>Device calls of this pool that threw between destroy's snapshot and the report (counted, never
    /// retried; a throwing unmap still ended its mapping's claim and the walk went on).</summary>
    public long DeviceCallFailures { get; init; }
}

namespace Netmem.Pool;

/// <summary>
/// Introspection of one pool, as the kernel's netlink <c>page-pool-get</c>: id, device, queue, inflight, inflight
/// bytes and detach time, plus how long a detached pool has been waiting for its pages.
/// </summary>
public sealed record PagePoolInfo(
    int Id,
    string Name,
    string? Device,
    int QueueIndex,
    PagePoolState State,
    long Inflight,
    long InflightBytes,
    DateTimeOffset? DetachTime,
    TimeSpan? StalledFor)
{
    /// <summary>
    /// The stall in the kernel's words, <c>stalled pool shutdown: N inflight, T s</c>, naming the pool; null when the
    /// pool is not a destroyed pool waiting for its pages.
    /// </summary>
    public string? DescribeStall() =>
        StalledFor is { } waiting
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"stalled pool shutdown: {Inflight} inflight, {waiting.TotalSeconds:0.#} s (pool {Name}, id {Id})")
            : null;
}

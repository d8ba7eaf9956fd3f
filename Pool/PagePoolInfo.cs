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
    TimeSpan? StalledFor);

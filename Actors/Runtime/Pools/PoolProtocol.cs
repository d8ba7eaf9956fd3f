using Netmem.Pool;

namespace Netmem.Actors.Pools;

// The pool actor's protocol: introspection, stats and destroy, and its own release check.

/// <summary>Asks a <see cref="PoolActor"/> for its pool's <see cref="Pool.PagePoolInfo"/> (netlink <c>page-pool-get</c>).</summary>
internal sealed record GetPoolInfo
{
    public static readonly GetPoolInfo Instance = new();

    private GetPoolInfo()
    {
    }
}

/// <summary>Asks a <see cref="PoolActor"/> for its pool's <see cref="Pool.PagePoolStats"/>.</summary>
internal sealed record GetPoolStats
{
    public static readonly GetPoolStats Instance = new();

    private GetPoolStats()
    {
    }
}

/// <summary>
/// Destroys the pool (the sender must own its allocation side: the driver has quiesced). Replies
/// <see cref="PoolDestroyed"/>; asking again replies the same report.
/// </summary>
internal sealed record DestroyPool
{
    public static readonly DestroyPool Instance = new();

    private DestroyPool()
    {
    }
}

/// <summary>The pool of RX queue <paramref name="QueueIndex"/> is destroyed; no device call for it is made or running.</summary>
internal sealed record PoolDestroyed(int QueueIndex, PagePoolDestroyReport Report);

/// <summary>A destroyed pool actor's timer tick: stop once the pool's last page is back.</summary>
internal sealed record CheckPoolReleased
{
    public static readonly CheckPoolReleased Instance = new();

    private CheckPoolReleased()
    {
    }
}

/// <summary>Published on the event stream when a <see cref="PoolActor"/> starts: its pool, for the runtime's health check.</summary>
internal sealed record PoolStarted(PagePool Pool);

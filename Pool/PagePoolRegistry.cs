using System.Collections.Concurrent;

namespace Netmem.Pool;

/// <summary>
/// Every pool that is not yet released, by id: the kernel's pool list that netlink <c>page-pool-get</c> dumps.
/// A destroyed pool stays listed until its last page is back, so a stuck pool stays visible.
/// </summary>
public static class PagePoolRegistry
{
    private static readonly ConcurrentDictionary<int, PagePool> s_pools = new();
    private static int s_lastId;

    /// <summary>The pools now listed.</summary>
    public static IReadOnlyList<PagePool> Pools => s_pools.Values.OrderBy(p => p.Id).ToArray();

    /// <summary>The listed pool with <paramref name="id"/>, or null once it is released or if there was none.</summary>
    public static PagePool? Find(int id) => s_pools.TryGetValue(id, out PagePool? pool) ? pool : null;

    /// <summary>Destroyed pools that have waited longer than <paramref name="threshold"/> for their pages.</summary>
    public static IReadOnlyList<PagePoolInfo> FindStalled(TimeSpan threshold) =>
        Pools.Select(p => p.GetInfo()).Where(i => i.StalledFor >= threshold).ToArray();

    internal static int Register(PagePool pool)
    {
        int id = Interlocked.Increment(ref s_lastId);
        s_pools[id] = pool;
        return id;
    }

    internal static void Unregister(PagePool pool) => s_pools.TryRemove(pool.Id, out _);
}

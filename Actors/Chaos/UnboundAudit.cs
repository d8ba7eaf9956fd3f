using Netmem.Pool;

namespace Netmem.Chaos;

/// <summary>
/// Checks, at the moment an <c>Unbound</c> reply arrives, that every page of the device's pools is reclaimed or
/// unmapped: a pool that is still active or mid-destroy has reclaimed nothing, so all its pages count; a detached
/// pool's pages that are still lent must no longer be mapped.
/// </summary>
internal static class UnboundAudit
{
    public static long CountItemsNotReclaimed(IEnumerable<PagePool> pools)
    {
        long count = 0;
        foreach (PagePool pool in pools)
        {
            switch (pool.State)
            {
                case PagePoolState.Active or PagePoolState.Destroying:
                    count += Math.Max(0, pool.Inflight);
                    break;
                case PagePoolState.Detached:
                    count += pool.GetOutstandingAllocations().Count(lent => pool.TryGetDmaAddress(lent.Netmem, out _));
                    break;
            }
        }

        return count;
    }
}

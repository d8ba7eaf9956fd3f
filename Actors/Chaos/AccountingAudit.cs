using Netmem.Pool;
using Netmem.Pool.Memory;

namespace Netmem.Chaos;

/// <summary>
/// Checks each pool's own count of the pages it is accountable for (hold − release) against an independent witness:
/// the memory provider's count of pages allocated and not yet freed. Once a run is quiet the two must be equal for
/// every provider; each page of difference is a mismatch (a page freed behind the pool's back, or one the pool
/// released that some reference still pins).
/// </summary>
public static class AccountingAudit
{
    public static long CountMismatchedPages(IEnumerable<PagePool> pools)
    {
        long mismatched = 0;
        foreach (IGrouping<IMemoryProvider, PagePool> byProvider in pools.GroupBy(p => p.MemoryProvider))
        {
            long inflight = byProvider.Sum(p => p.Inflight);
            if (inflight < 0)
            {
                mismatched += -inflight;
                continue;
            }

            if (byProvider.Key is SegmentedPageProvider provider)
            {
                mismatched += Math.Abs(provider.OutstandingPages - inflight);
            }
        }

        return mismatched;
    }
}

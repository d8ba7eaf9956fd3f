using Netmem.Pool;
using Netmem.Pool.Memory;

namespace Netmem.Chaos;

/// <summary>
/// Checks each pool's own count of the pages it is accountable for (hold − release) against an independent witness:
/// the count of pages allocated and not yet freed of the memory provider the run gave that pool. Once a run is quiet
/// the two must be equal; each page of difference is a mismatch (a page freed behind the pool's back, or one the pool
/// released that some reference still pins).
/// </summary>
internal static class AccountingAudit
{
    /// <param name="pools">Each pool with the provider the run created for it (one provider per pool).</param>
    public static long CountMismatchedPages(IEnumerable<(PagePool Pool, SegmentedPageProvider Provider)> pools)
    {
        long mismatched = 0;
        foreach ((PagePool pool, SegmentedPageProvider provider) in pools)
        {
            long inflight = pool.Inflight;
            mismatched += inflight < 0 ? -inflight : Math.Abs(provider.OutstandingPages - inflight);
        }

        return mismatched;
    }
}

using Netmem.Pool;

namespace Netmem.Benchmarks.Support;

/// <summary>
/// Prints a pool's counters at global cleanup (BenchmarkDotNet copies the line into its log), so a run shows which
/// path the operations really took: cache, ring refills, slow-path allocations, releases.
/// </summary>
public static class PoolStatsLog
{
    public static void Write(string benchmark, PagePool pool)
    {
        PagePoolStats stats = pool.GetStats();
        Console.WriteLine(
            $"// pool-stats {benchmark} {pool.Name}: fast={stats.AllocFast} refill={stats.AllocRefill} slow={stats.AllocSlow} " +
            $"cached={stats.RecycleCached} ring={stats.RecycleRing} ring_full={stats.RecycleRingFull} " +
            $"released_refcnt={stats.RecycleReleasedRefcount} hold={stats.Hold} release={stats.Release}");
    }
}

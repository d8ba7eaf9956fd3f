namespace Netmem.Pool.Tests;

/// <summary>Everything observable about a test pool, to show that a refused call changed none of it.</summary>
internal sealed record PoolSnapshot(
    PagePoolStats Stats,
    long Inflight,
    PagePoolState State,
    string Outstanding,
    long MapCalls,
    long UnmapCalls,
    long SyncCalls,
    int LiveMappings,
    int Violations,
    long ProviderPages)
{
    public static PoolSnapshot Of(TestPool t) => new(
        t.Pool.GetStats(),
        t.Pool.Inflight,
        t.Pool.State,
        string.Join(",", t.Pool.GetOutstandingAllocations().Select(o => o.Netmem.Value)),
        t.Iommu.MapCalls,
        t.Iommu.UnmapCalls,
        t.Iommu.SyncCalls,
        t.Iommu.LiveMappingCount,
        t.Iommu.ViolationCount,
        t.Provider.OutstandingPages);
}

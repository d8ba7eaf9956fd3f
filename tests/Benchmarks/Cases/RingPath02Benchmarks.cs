using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Support;
using Netmem.Pool;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// The kernel's <c>page_pool02</c> (ptr_ring path): allocate, then return through the recycle ring on the same
/// thread. As in the kernel bench the ring is pre-filled with 64 pages and the alloc cache left empty, so allocations
/// pop the cache and, every 64th, refill 64 pages from the ring; every return is a ring enqueue. No device.
/// </summary>
[BenchmarkCategory("02 ring path")]
public class RingPath02Benchmarks : PeerPoolBaselines
{
    private const int RingPrefill = 64;

    private PagePool _tracked = null!;
    private PagePool _untracked = null!;

    [Benchmark]
    public void PagePool_AllocReturnViaRing()
    {
        NetmemRef page = _tracked.Allocate();
        page.GetSpan()[0] = 1;
        _tracked.Return(page);
    }

    [Benchmark]
    public void PagePool_AllocReturnViaRing_TrackingOff()
    {
        NetmemRef page = _untracked.Allocate();
        page.GetSpan()[0] = 1;
        _untracked.Return(page);
    }

    protected override void SetUpPagePools()
    {
        _tracked = CreatePrefilled(trackInflight: true);
        _untracked = CreatePrefilled(trackInflight: false);
    }

    protected override void CleanUpPagePools()
    {
        PoolStatsLog.Write(nameof(RingPath02Benchmarks), _tracked);
        PoolStatsLog.Write(nameof(RingPath02Benchmarks), _untracked);
        _tracked.Destroy();
        _untracked.Destroy();
    }

    /// <summary>Allocate 64 (the first slow-path batch, which leaves the cache empty), then return all 64 to the ring.</summary>
    private static PagePool CreatePrefilled(bool trackInflight)
    {
        PagePool pool = BenchmarkPools.Create(trackInflight);
        var pages = new NetmemRef[RingPrefill];
        for (int i = 0; i < pages.Length; i++)
        {
            pages[i] = pool.Allocate();
        }

        foreach (NetmemRef page in pages)
        {
            pool.Return(page);
        }

        return pool;
    }
}

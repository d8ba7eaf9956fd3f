using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Support;
using Netmem.Pool;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// The kernel's <c>page_pool01</c> (fast path, the XDP_DROP pattern): allocate, then recycle straight into the alloc
/// cache from the owner's context. Every operation is a cache pop and a cache push; the ring and the provider are
/// never touched. As in the kernel bench, the pool maps nothing (no device).
/// </summary>
[BenchmarkCategory("01 fast path")]
public class FastPath01Benchmarks : PeerPoolBaselines
{
    private PagePool _tracked = null!;
    private PagePool _untracked = null!;

    [Benchmark]
    public void PagePool_AllocRecycleDirect()
    {
        NetmemRef page = _tracked.Allocate();
        page.GetSpan()[0] = 1;
        _tracked.RecycleDirect(page);
    }

    [Benchmark]
    public void PagePool_AllocRecycleDirect_TrackingOff()
    {
        NetmemRef page = _untracked.Allocate();
        page.GetSpan()[0] = 1;
        _untracked.RecycleDirect(page);
    }

    protected override void SetUpPagePools()
    {
        _tracked = BenchmarkPools.Create(trackInflight: true);
        _untracked = BenchmarkPools.Create(trackInflight: false);
    }

    protected override void CleanUpPagePools()
    {
        PoolStatsLog.Write(nameof(FastPath01Benchmarks), _tracked);
        PoolStatsLog.Write(nameof(FastPath01Benchmarks), _untracked);
        _tracked.Destroy();
        _untracked.Destroy();
    }
}

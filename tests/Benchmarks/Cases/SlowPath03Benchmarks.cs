using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Support;
using Netmem.Pool;
using Netmem.Simulation;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// The kernel's <c>page_pool03</c> (slow path): every page is released instead of recycled, so every allocation
/// comes from the memory provider and is DMA-mapped, and every return unmaps and frees.
/// </summary>
/// <remarks>
/// <para>How the release is forced: exactly the kernel bench's trick. Before the return the benchmark takes an extra
/// reference to the page (<see cref="PagePool.AcquirePageReference"/>, the kernel's <c>get_page</c>); the return then
/// sees the elevated count and releases the page (unmap, account, drop the pool's reference), and disposing the
/// reference afterwards (<c>put_page</c>) frees the memory to the provider. A tiny ring would not do it: a
/// same-thread alloc/return loop keeps a handful of pages cycling between a 2-entry ring and the cache and never
/// reaches the slow path.</para>
/// <para>As in the kernel, allocations bring pages in from the provider in batches of 64, each mapped; so per
/// operation this measures one map (in a batch), one unmap, two page-reference updates and one free to the
/// provider. The <see cref="PageReference"/> object of the trick is the only managed allocation (40 B/op); the
/// pool's own slow path and release allocate nothing.</para>
/// </remarks>
[BenchmarkCategory("03 slow path")]
public class SlowPath03Benchmarks
{
    private PagePool _tracked = null!;
    private PagePool _untracked = null!;

    [Params(DeviceKind.NoOp, DeviceKind.IommuModel)]
    public DeviceKind Device { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _tracked = BenchmarkPools.Create(trackInflight: true, BenchmarkPools.CreateDevice(Device));
        _untracked = BenchmarkPools.Create(trackInflight: false, BenchmarkPools.CreateDevice(Device));
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        PoolStatsLog.Write($"{nameof(SlowPath03Benchmarks)}({Device})", _tracked);
        PoolStatsLog.Write($"{nameof(SlowPath03Benchmarks)}({Device})", _untracked);
        _tracked.Destroy();
        _untracked.Destroy();
    }

    [Benchmark]
    public void PagePool_AllocForcedRelease() => AllocateAndForceRelease(_tracked);

    [Benchmark(Baseline = true)]
    public void PagePool_AllocForcedRelease_TrackingOff() => AllocateAndForceRelease(_untracked);

    private static void AllocateAndForceRelease(PagePool pool)
    {
        NetmemRef page = pool.Allocate();
        page.GetSpan()[0] = 1;
        PageReference extra = pool.AcquirePageReference(page);
        pool.Return(page);
        extra.Dispose();
    }
}

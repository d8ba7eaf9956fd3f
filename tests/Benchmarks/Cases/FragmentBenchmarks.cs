using System.Buffers;
using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Support;
using Netmem.Pool;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// Fragments (the kernel's <c>page_pool_alloc_frag</c>): allocate a slice of 256 B, 1 KiB or 2 KiB, write one byte
/// into it, return it with <see cref="PagePool.ReturnFragment"/>. Slices are cut from the page being carved until it
/// is full (16, 4 or 2 slices per 4 KiB page); the owner then stops carving and, every slice being back already,
/// recycles the page into its cache. The peer is <see cref="ArrayPool{T}.Shared"/> renting the same size.
/// </summary>
[BenchmarkCategory("05 fragments")]
public class FragmentBenchmarks
{
    private PagePool _tracked = null!;
    private PagePool _untracked = null!;

    [Params(256, 1024, 2048)]
    public int FragmentSize { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _tracked = BenchmarkPools.Create(trackInflight: true);
        _untracked = BenchmarkPools.Create(trackInflight: false);
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        PoolStatsLog.Write($"{nameof(FragmentBenchmarks)}({FragmentSize})", _tracked);
        PoolStatsLog.Write($"{nameof(FragmentBenchmarks)}({FragmentSize})", _untracked);
        _tracked.Destroy();
        _untracked.Destroy();
    }

    [Benchmark]
    public void PagePool_AllocReturnFragment() => AllocateAndReturnFragment(_tracked);

    [Benchmark]
    public void PagePool_AllocReturnFragment_TrackingOff() => AllocateAndReturnFragment(_untracked);

    [Benchmark(Baseline = true)]
    public void ArrayPool_Shared_RentReturnSameSize()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(FragmentSize);
        buffer[0] = 1;
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private void AllocateAndReturnFragment(PagePool pool)
    {
        NetmemFragment fragment = pool.AllocateFragment(FragmentSize);
        fragment.GetSpan()[0] = 1;
        pool.ReturnFragment(fragment);
    }
}

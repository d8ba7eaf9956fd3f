using System.Buffers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;
using Netmem.Benchmarks.Peers;
using Netmem.Benchmarks.Support;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// The .NET peers, each doing what a PagePool case does on one thread: take a 4 KiB buffer, write one byte into
/// it through its normal accessor, give it back. A case that compares against them derives from this class, so the
/// peers land in that case's table and category, with <see cref="ArrayPool{T}.Shared"/> as the ratio baseline.
/// </summary>
public abstract class PeerPoolBaselines
{
    private const int PeerPrefill = 64;

    private KestrelPinnedBlockPool _kestrel = null!;
    private DefaultObjectPool<byte[]> _objectPool = null!;
    private ConcurrentQueueBufferPool _queuePool = null!;

    [GlobalSetup]
    public void SetUp()
    {
        _kestrel = new KestrelPinnedBlockPool();
        _objectPool = new DefaultObjectPool<byte[]>(new PageArrayPolicy(BenchmarkPools.PageSize), PeerPrefill);
        _queuePool = new ConcurrentQueueBufferPool(BenchmarkPools.PageSize, PeerPrefill);
        SetUpPagePools();
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        CleanUpPagePools();
        _kestrel.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void ArrayPool_Shared_RentReturn()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BenchmarkPools.PageSize);
        buffer[0] = 1;
        ArrayPool<byte>.Shared.Return(buffer);
    }

    [Benchmark]
    public void Kestrel_PinnedBlockPool_RentDispose()
    {
        IMemoryOwner<byte> block = _kestrel.Pool.Rent(BenchmarkPools.PageSize);
        block.Memory.Span[0] = 1;
        block.Dispose();
    }

    [Benchmark]
    public void ObjectPool_Default_GetReturn()
    {
        byte[] buffer = _objectPool.Get();
        buffer[0] = 1;
        _objectPool.Return(buffer);
    }

    [Benchmark]
    public void ConcurrentQueue_Pool_RentReturn()
    {
        byte[] buffer = _queuePool.Rent();
        buffer[0] = 1;
        _queuePool.Return(buffer);
    }

    protected abstract void SetUpPagePools();

    protected abstract void CleanUpPagePools();
}

using System.Buffers;
using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Columns;
using Netmem.Benchmarks.Peers;
using Netmem.Benchmarks.Support;
using Netmem.Pool;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// Cross-thread return, after the kernel's <c>bench_page_pool_cross_cpu</c>: the benchmark thread is the pool's
/// owner and allocates; it writes one byte into each page and deals the pages round-robin into one bounded SPSC
/// handoff (1024 entries) per returning thread; each returner gives its pages back with <see cref="PagePool.Return"/>
/// (into the recycle ring), and the owner refills from the ring. One invocation moves 16384 pages and waits until
/// all are back, so the reported time is per page for the whole round trip; pages/s = 10⁹ / that.
/// </summary>
/// <remarks>
/// The pool's ring is the kernel's largest (16384) so that pages in the handoffs never overflow it; the cleanup log
/// line shows ring_full = 0 when that held. The peers run the same harness: ArrayPool rents on the owner and
/// returns on the returners, the ConcurrentQueue pool dequeues on the owner and enqueues on the returners.
/// </remarks>
[BenchmarkCategory("04 cross-thread return")]
[Config(typeof(PagesPerSecondConfig))]
public class CrossThreadReturnBenchmarks
{
    private const int PagesPerInvoke = 16384;

    private PagePool? _pool;
    private CrossThreadReturners<NetmemRef>? _pageReturners;
    private ConcurrentQueueBufferPool? _queuePool;
    private CrossThreadReturners<byte[]>? _arrayReturners;

    [Params(1, 2)]
    public int Returners { get; set; }

    [GlobalSetup(Targets = [nameof(PagePool_AllocOnOwner_ReturnOnOthers)])]
    public void SetUpTracked() => SetUpPagePool(trackInflight: true);

    [GlobalSetup(Targets = [nameof(PagePool_AllocOnOwner_ReturnOnOthers_TrackingOff)])]
    public void SetUpUntracked() => SetUpPagePool(trackInflight: false);

    [GlobalSetup(Targets = [nameof(ArrayPool_Shared_RentOnOwner_ReturnOnOthers)])]
    public void SetUpArrayPool() => _arrayReturners = new CrossThreadReturners<byte[]>(Returners, buffer => ArrayPool<byte>.Shared.Return(buffer));

    [GlobalSetup(Targets = [nameof(ConcurrentQueue_Pool_RentOnOwner_ReturnOnOthers)])]
    public void SetUpQueuePool()
    {
        _queuePool = new ConcurrentQueueBufferPool(BenchmarkPools.PageSize, prefill: 2048);
        ConcurrentQueueBufferPool pool = _queuePool;
        _arrayReturners = new CrossThreadReturners<byte[]>(Returners, pool.Return);
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        _pageReturners?.Dispose();
        _arrayReturners?.Dispose();
        if (_pool is not null)
        {
            PoolStatsLog.Write($"{nameof(CrossThreadReturnBenchmarks)}(returners={Returners})", _pool);
            _pool.Destroy();
        }
    }

    [Benchmark(OperationsPerInvoke = PagesPerInvoke)]
    public void PagePool_AllocOnOwner_ReturnOnOthers() => MovePages();

    [Benchmark(OperationsPerInvoke = PagesPerInvoke)]
    public void PagePool_AllocOnOwner_ReturnOnOthers_TrackingOff() => MovePages();

    [Benchmark(Baseline = true, OperationsPerInvoke = PagesPerInvoke)]
    public void ArrayPool_Shared_RentOnOwner_ReturnOnOthers()
    {
        CrossThreadReturners<byte[]> returners = _arrayReturners!;
        for (int i = 0; i < PagesPerInvoke; i++)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(BenchmarkPools.PageSize);
            buffer[0] = 1;
            returners.Deal(buffer);
        }

        returners.WaitUntilAllReturned();
    }

    [Benchmark(OperationsPerInvoke = PagesPerInvoke)]
    public void ConcurrentQueue_Pool_RentOnOwner_ReturnOnOthers()
    {
        ConcurrentQueueBufferPool pool = _queuePool!;
        CrossThreadReturners<byte[]> returners = _arrayReturners!;
        for (int i = 0; i < PagesPerInvoke; i++)
        {
            byte[] buffer = pool.Rent();
            buffer[0] = 1;
            returners.Deal(buffer);
        }

        returners.WaitUntilAllReturned();
    }

    private void SetUpPagePool(bool trackInflight)
    {
        PagePool pool = BenchmarkPools.Create(trackInflight, poolSize: PagePoolOptions.MaxPoolSize);
        _pool = pool;
        _pageReturners = new CrossThreadReturners<NetmemRef>(Returners, pool.Return);
    }

    private void MovePages()
    {
        PagePool pool = _pool!;
        CrossThreadReturners<NetmemRef> returners = _pageReturners!;
        for (int i = 0; i < PagesPerInvoke; i++)
        {
            NetmemRef page = pool.Allocate();
            page.GetSpan()[0] = 1;
            returners.Deal(page);
        }

        returners.WaitUntilAllReturned();
    }
}

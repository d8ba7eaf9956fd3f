using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Columns;
using Netmem.Benchmarks.Support;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Simulation;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// Destroy with 10³…10⁶ pages inflight (held by the benchmark, as the stack would hold them at unbind). Each
/// iteration builds a fresh pool and lends it <see cref="InflightPages"/> pages in the (unmeasured) iteration setup;
/// the measured operation is one <see cref="PagePool.Destroy"/>, which walks the pool's item blocks and unmaps every
/// page still mapped; the iteration cleanup returns the pages (late returns: freed without a device call) and
/// checks the pool reached Released.
/// </summary>
/// <remarks>
/// The device's own unmap cost is measured on its own by <see cref="IommuModel_UnmapAlone"/>: the same number of
/// mappings, made in setup, unmapped in a plain loop. Destroy through the strict model minus that, per page, is what
/// destroy costs beyond the device; destroy through the no-op device is the pool's cost with a free unmap.
/// <see cref="OutstandingList_Alone"/> measures the report's list of outstanding pages, which destroy builds too. The
/// ns/page column divides the mean by <see cref="InflightPages"/>.
/// </remarks>
[BenchmarkCategory("06 destroy")]
[InvocationCount(1, unrollFactor: 1)]
[Config(typeof(DestroyColumnsConfig))]
public class DestroyBenchmarks
{
    private HostPageProvider _provider = null!;
    private NetmemRef[] _pages = [];
    private ulong[] _dmaAddresses = [];
    private PagePool? _pool;
    private IommuModel? _device;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int InflightPages { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _provider = new HostPageProvider(BenchmarkPools.PageSize);
        _pages = new NetmemRef[InflightPages];
        _dmaAddresses = new ulong[InflightPages];
    }

    [GlobalCleanup]
    public void CleanUp() => _provider.Dispose();

    [IterationSetup(Targets = [nameof(Destroy_NoOpDevice), nameof(OutstandingList_Alone)])]
    public void LendThroughNoOpDevice() => LendInflightPages(new NoOpDmaDevice());

    [IterationSetup(Targets = [nameof(Destroy_IommuModel)])]
    public void LendThroughIommuModel() => LendInflightPages(new IommuModel("bench0", needsSync: false));

    [IterationCleanup(Targets = [nameof(Destroy_NoOpDevice), nameof(Destroy_IommuModel)])]
    public void ReturnInflightPages()
    {
        PagePool pool = _pool!;
        foreach (NetmemRef page in _pages)
        {
            pool.Return(page);
        }

        if (pool.State != PagePoolState.Released)
        {
            throw new InvalidOperationException($"{pool} did not reach Released after its last page came back.");
        }

        _pool = null;
    }

    [IterationCleanup(Targets = [nameof(OutstandingList_Alone)])]
    public void ReturnPagesThenDestroy()
    {
        PagePool pool = _pool!;
        foreach (NetmemRef page in _pages)
        {
            pool.Return(page);
        }

        pool.Destroy();
        if (pool.State != PagePoolState.Released)
        {
            throw new InvalidOperationException($"{pool} did not reach Released with every page back.");
        }

        _pool = null;
    }

    [IterationSetup(Targets = [nameof(IommuModel_UnmapAlone)])]
    public void MapOnIommuModel()
    {
        var device = new IommuModel("bench0", needsSync: false);
        for (int i = 0; i < _dmaAddresses.Length; i++)
        {
            _dmaAddresses[i] = device.Map(new DmaBuffer((ulong)i, 0, BenchmarkPools.PageSize), DmaDirection.FromDevice);
        }

        _device = device;
    }

    [IterationCleanup(Targets = [nameof(IommuModel_UnmapAlone)])]
    public void CheckAllUnmapped()
    {
        if (_device!.LiveMappingCount != 0 || _device.ViolationCount != 0)
        {
            throw new InvalidOperationException($"The unmap loop left {_device.LiveMappingCount} mappings and {_device.ViolationCount} violations.");
        }

        _device = null;
    }

    [Benchmark]
    public PagePoolDestroyReport Destroy_NoOpDevice() => _pool!.Destroy();

    [Benchmark]
    public PagePoolDestroyReport Destroy_IommuModel() => _pool!.Destroy();

    /// <summary>
    /// The part of destroy that builds its report's list of outstanding pages (<see cref="PagePool.GetOutstandingAllocations"/>,
    /// one record per inflight page), measured on its own to show its share of destroy's time and allocation.
    /// </summary>
    [Benchmark]
    public int OutstandingList_Alone() => _pool!.GetOutstandingAllocations().Count;

    [Benchmark]
    public int IommuModel_UnmapAlone()
    {
        IommuModel device = _device!;
        ulong[] addresses = _dmaAddresses;
        for (int i = 0; i < addresses.Length; i++)
        {
            device.Unmap(addresses[i], BenchmarkPools.PageSize, DmaDirection.FromDevice);
        }

        return device.LiveMappingCount;
    }

    private void LendInflightPages(IDmaDevice device)
    {
        PagePool pool = new(new PagePoolOptions { Device = device, MemoryProvider = _provider, Name = "bench-destroy" });
        for (int i = 0; i < _pages.Length; i++)
        {
            _pages[i] = pool.Allocate();
        }

        _pool = pool;
    }
}

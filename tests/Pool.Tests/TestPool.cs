using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Simulation;

namespace Netmem.Pool.Tests;

/// <summary>
/// A pool wired to a strict IOMMU model and a host page provider of its own, so a spec can check the pool's
/// figures against what the device and the page allocator saw.
/// </summary>
internal sealed record TestPool(PagePool Pool, IommuModel Iommu, HostPageProvider Provider)
{
    public static TestPool Create(Func<PagePoolOptions, PagePoolOptions>? configure = null, bool needsSync = true, long maxPages = 1L << 24)
    {
        var iommu = new IommuModel("test-device", needsSync);
        var provider = new HostPageProvider(4096, chunkBytes: 256 * 4096, maxPages: maxPages);
        var options = new PagePoolOptions
        {
            Device = iommu,
            MemoryProvider = provider,
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(5),
        };
        return new TestPool(new PagePool(configure is null ? options : configure(options)), iommu, provider);
    }

    public PagePoolStats Stats => Pool.GetStats();

    public List<NetmemRef> AllocateMany(int count)
    {
        var pages = new List<NetmemRef>(count);
        for (int i = 0; i < count; i++)
        {
            pages.Add(Pool.Allocate());
        }

        return pages;
    }

    public void ReturnAll(IEnumerable<NetmemRef> pages)
    {
        foreach (NetmemRef page in pages)
        {
            Pool.Return(page);
        }
    }

    /// <summary>Destroys the pool, unbinds the device and checks that the IOMMU saw a clean teardown.</summary>
    public PagePoolDestroyReport DestroyAndUnbind()
    {
        PagePoolDestroyReport report = Pool.Destroy();
        int leaked = Iommu.Unbind();
        Xunit.Assert.Equal(0, leaked);
        Xunit.Assert.Empty(Iommu.Violations);
        return report;
    }
}

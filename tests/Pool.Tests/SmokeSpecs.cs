using Netmem.Pool.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class SmokeSpecs
{
    [Fact]
    public void A_page_allocated_returned_and_destroyed_leaves_no_mapping()
    {
        var iommu = new IommuModel("smoke");
        var pool = new PagePool(new PagePoolOptions { Device = iommu });
        NetmemRef page = pool.Allocate();
        page.GetSpan()[0] = 42;
        NetmemRef held = pool.Allocate();
        pool.Return(page);
        PagePoolDestroyReport report = pool.Destroy();
        Assert.Equal(1, report.UnmappedByDestroy);
        pool.Return(held);
        iommu.Unbind();
        Assert.Empty(iommu.Violations);
        Assert.Equal(0, pool.Inflight);
        Assert.Equal(PagePoolState.Released, pool.State);
    }
}

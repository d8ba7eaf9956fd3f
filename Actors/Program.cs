using Netmem.Pool;
using Netmem.Pool.Dma;

// Built-in scenario of the core until the chaos runner lands: lend pages, hold some past destroy, return them late.
var iommu = new IommuModel("eth0");
var pool = new PagePool(new PagePoolOptions { Device = iommu, Name = "eth0-rx0", QueueIndex = 0 });
var held = new List<NetmemRef>();
for (int i = 0; i < 10_000; i++)
{
    NetmemRef page = pool.Allocate();
    if (i % 10 == 0)
    {
        held.Add(page);
    }
    else
    {
        pool.RecycleDirect(page);
    }
}

PagePoolDestroyReport report = pool.Destroy();
iommu.Unbind();
held.ForEach(pool.Return);
Console.WriteLine($"inflight at destroy {report.InflightAtDestroy}, unmapped by destroy {report.UnmappedByDestroy}, late returns {pool.GetStats().LateReturns}");
Console.WriteLine($"violations {iommu.ViolationCount}, pool state {pool.State}, inflight {pool.Inflight}");
return iommu.ViolationCount == 0 && pool.Inflight == 0 ? 0 : 1;

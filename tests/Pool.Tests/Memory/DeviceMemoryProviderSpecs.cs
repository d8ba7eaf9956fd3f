using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests.Memory;

public sealed class DeviceMemoryProviderSpecs
{
    [Fact]
    public void Device_memory_has_no_host_address_and_exactly_the_buffers_asked_for()
    {
        var provider = new DeviceMemoryProvider(10, 4096);
        var buffers = new List<ulong>();
        while (provider.TryAllocatePage(out ulong buffer))
        {
            buffers.Add(buffer);
        }

        Assert.False(provider.IsReadable);
        Assert.Equal(10, buffers.Distinct().Count());
        Assert.All(buffers, b => Assert.Equal(0, provider.GetHostAddress(b)));
        buffers.ForEach(provider.ReleasePage);
        Assert.Equal(0, provider.OutstandingPages);
    }

    [Fact]
    public void A_pool_of_device_memory_lends_unreadable_handles_that_refuse_a_span()
    {
        var iommu = new IommuModel("devmem");
        var pool = new PagePool(new PagePoolOptions { Device = iommu, MemoryProvider = new DeviceMemoryProvider(16) });

        NetmemRef buffer = pool.Allocate();

        Assert.False(pool.IsReadable);
        Assert.False(buffer.IsReadable);
        Assert.Contains("unreadable", buffer.ToString());
        UnreadableNetmemException refused = Assert.Throws<UnreadableNetmemException>(() => buffer.GetSpan());
        Assert.Equal(MisuseKind.UnreadableAccess, refused.Kind);
        Assert.Equal(16, pool.GetStats().Hold);
        Assert.Equal(1, pool.GetStats().ProviderFailures);
        pool.Return(buffer);
        pool.Destroy();
        Assert.Equal(0, iommu.Unbind());
        Assert.Empty(iommu.Violations);
    }

    [Fact]
    public void The_device_still_writes_unreadable_buffers_through_checked_dma()
    {
        var iommu = new IommuModel("devmem");
        var pool = new PagePool(new PagePoolOptions { Device = iommu, MemoryProvider = new DeviceMemoryProvider(4) });
        NetmemRef buffer = pool.Allocate();
        ulong address = pool.GetDmaAddress(buffer);

        Assert.True(iommu.DmaWrite(address, 0, new byte[1500]));
        Assert.False(iommu.DmaWrite(address, 4000, new byte[200]));
        pool.Return(buffer);
        pool.Destroy();
        Assert.False(iommu.DmaWrite(address, 0, new byte[64]));

        Assert.Equal(2, iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.Equal(2, iommu.ViolationCount);
    }

    [Fact]
    public void A_readable_handle_forged_onto_a_device_memory_pool_is_refused()
    {
        var pool = new PagePool(new PagePoolOptions { MemoryProvider = new DeviceMemoryProvider(4) });
        NetmemRef buffer = pool.Allocate();
        NetmemRef readable = NetmemRef.FromValue(buffer.Value & ~(1UL << 63));

        Assert.Throws<InvalidNetmemException>(() => pool.Return(readable));
        Assert.Throws<InvalidNetmemException>(() => readable.GetSpan());

        pool.Return(buffer);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
    }
}

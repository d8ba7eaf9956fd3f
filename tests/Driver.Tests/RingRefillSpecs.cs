using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Driver.Tests;

public sealed class RingRefillSpecs
{
    private readonly PagePool _pool = new(new PagePoolOptions { Device = new IommuModel("eth0") });

    [Fact]
    public void A_refill_the_driver_abandoned_while_it_ran_returns_its_pages_itself_when_it_ends()
    {
        var refill = new RingRefill(_pool, 8);
        refill.AllocateRemaining(CancellationToken.None);

        refill.Abandon();
        Assert.Equal(8, _pool.GetOutstandingAllocations().Count);
        Assert.False(refill.TryDeliver());

        Assert.Empty(_pool.GetOutstandingAllocations());
    }

    [Fact]
    public void A_refill_delivered_to_a_driver_that_then_stops_is_returned_by_the_driver()
    {
        var refill = new RingRefill(_pool, 8);
        refill.AllocateRemaining(CancellationToken.None);

        Assert.True(refill.TryDeliver());
        Assert.Equal(8, _pool.GetOutstandingAllocations().Count);
        refill.Abandon();

        Assert.Empty(_pool.GetOutstandingAllocations());
    }

    [Fact]
    public void A_delivered_refill_leaves_its_pages_with_the_driver()
    {
        var refill = new RingRefill(_pool, 8);
        refill.AllocateRemaining(CancellationToken.None);

        Assert.True(refill.TryDeliver());

        Assert.Equal(8, refill.Pages.Count);
        Assert.Equal(refill.Pages.ToHashSet(), _pool.GetOutstandingAllocations().Select(o => o.Netmem).ToHashSet());
    }

    [Fact]
    public void An_attempt_keeps_the_pages_earlier_attempts_got()
    {
        var iommu = new IommuModel("eth1") { MapFailureInjector = operation => operation == 64 };
        var pool = new PagePool(new PagePoolOptions { Device = iommu });
        var refill = new RingRefill(pool, 70);

        // The pool brings pages in 64 at a time; map 64 fails, so the first attempt gets 64 pages and then throws.
        Assert.Throws<DmaMapException>(() => refill.AllocateRemaining(CancellationToken.None));
        Assert.Equal(64, refill.Pages.Count);
        refill.AllocateRemaining(CancellationToken.None);

        Assert.Equal(70, refill.Pages.Count);
        Assert.True(refill.TryDeliver());
    }
}

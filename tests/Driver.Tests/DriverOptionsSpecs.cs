using Netmem.Pool;
using Xunit;

namespace Netmem.Driver.Tests;

public sealed class DriverOptionsSpecs
{
    [Fact]
    public void The_recommended_recycle_ring_covers_the_rx_ring_the_batches_in_flight_and_what_consumers_hold_as_a_power_of_two()
    {
        var options = new DriverOptions();

        // 256 posted + 17 batches of 64 = 1,344 pages out with nothing held downstream.
        Assert.Equal(2048, options.RecommendedPoolSize(0));
        Assert.Equal(2048, options.RecommendedPoolSize(2048 - 1344));
        Assert.Equal(4096, options.RecommendedPoolSize(2048 - 1344 + 1));
        Assert.Equal(8192, new DriverOptions { RingSize = 1024, MaxBatchesInFlight = 64 }.RecommendedPoolSize(2000));
    }

    [Fact]
    public void The_recommended_recycle_ring_is_capped_at_the_kernels_largest_ring()
    {
        var options = new DriverOptions();

        Assert.Equal(PagePoolOptions.MaxPoolSize, options.RecommendedPoolSize(1 << 18));
        Assert.Equal(PagePoolOptions.MaxPoolSize, options.RecommendedPoolSize(long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.RecommendedPoolSize(-1));
    }
}

using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Simulation;
using Netmem.Stack.Actors;
using Xunit;

namespace Netmem.Actors.Tests.Hosting;

public sealed class RecycleRingSizingSpecs
{
    private static readonly DeviceOptions Device = new() { Device = new SimulatedDevice(new SimulatedDeviceOptions { Name = "eth0", TrafficSourceFactory = _ => throw new InvalidOperationException("never bound") }), QueueCount = 2 };

    [Fact]
    public void A_pool_left_at_the_default_ring_gets_the_ring_the_driver_and_the_consumers_need()
    {
        ConsumerSpec[] consumers =
        [
            new("app", [DeviceHarness.Flow(0)], 4096, ConsumerBehavior.ReleaseAtOnce),
            new("holder", [DeviceHarness.Flow(1)], 256, ConsumerBehavior.HoldUntilReleased with { MaxHeld = 1000 }),
        ];

        DeviceOptions sized = PagePoolRuntime.WithRecycleRingForConsumers(Device, consumers);

        Assert.Equal(4096 + 256 + 1000, PagePoolRuntime.PagesHeldByConsumers(consumers));
        Assert.Equal(new DriverOptions().RecommendedPoolSize(4096 + 256 + 1000), sized.PoolOptions(0).PoolSize);
        Assert.Equal(8192, sized.PoolOptions(1).PoolSize);
    }

    [Fact]
    public void A_ring_size_the_caller_chose_is_kept()
    {
        DeviceOptions device = Device with { PoolOptions = queue => new PagePoolOptions { PoolSize = queue == 0 ? 64 : 1024 } with { Name = $"rx{queue}" } };

        DeviceOptions sized = PagePoolRuntime.WithRecycleRingForConsumers(device, [new("app", [DeviceHarness.Flow(0)], 65_536, ConsumerBehavior.ReleaseAtOnce)]);

        Assert.Equal(64, sized.PoolOptions(0).PoolSize);
        // Set to the default's value is still a choice, and survives a copy of the options.
        Assert.Equal(1024, sized.PoolOptions(1).PoolSize);
    }

    [Fact]
    public void Consumers_that_hold_without_a_limit_ask_for_the_largest_ring()
    {
        DeviceOptions sized = PagePoolRuntime.WithRecycleRingForConsumers(Device, [new("holder", [DeviceHarness.Flow(0)], 16, ConsumerBehavior.HoldUntilReleased)]);

        Assert.Equal(PagePoolOptions.MaxPoolSize, sized.PoolOptions(0).PoolSize);
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Hosting;

public sealed class CoordinatedShutdownSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public async Task Coordinated_shutdown_unbinds_every_device_before_the_actor_system_terminates()
    {
        var iommus = new[] { new IommuModel("eth0"), new IommuModel("eth1") };
        var options = new PagePoolRuntimeOptions
        {
            Devices = iommus.Select((iommu, d) => new DeviceOptions
            {
                Device = new SimulatedDevice(new SimulatedDeviceOptions
                {
                    Name = iommu.Name,
                    Iommu = iommu,
                    TrafficSourceFactory = queue => new SyntheticTrafficSource(new SyntheticTrafficOptions
                    {
                        Flows = [DeviceHarness.Flow((2 * d) + queue)],
                        FramesPerSecond = 50_000,
                        MaxFrames = 5_000,
                    }),
                }),
                QueueCount = 2,
                Driver = new DriverOptions { RingSize = 64 },
            }).ToArray(),
            Consumers = [new ConsumerSpec("holder", Enumerable.Range(0, 4).Select(DeviceHarness.Flow).ToArray(), 65_536, ConsumerBehavior.HoldUntilReleased)],
        };
        using ActorSystem system = ActorSystem.Create("shutdown", ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off"));
        PagePoolRuntime runtime = PagePoolRuntime.Start(system, options);
        var probe = CreateTestProbe(system);
        var pools = new List<PagePool>();
        foreach (IActorRef device in runtime.Devices.Values)
        {
            device.Tell(Bind.Instance, probe);
            pools.AddRange(probe.ExpectMsg<Bound>(DeviceHarness.Patience).Pools.Select(p => PagePoolRegistry.Find(p.Id)!));
        }

        AwaitAssert(() => Assert.All(iommus, iommu => Assert.True(iommu.DmaWrites > 1_000)), DeviceHarness.Patience);

        await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        IReadOnlyList<Unbound> unbinds = await runtime.ShutdownUnbinds.WaitAsync(DeviceHarness.Patience);

        Assert.True(system.WhenTerminated.IsCompleted);
        Assert.Equal(["eth0", "eth1"], unbinds.Select(u => u.Report.Device).Order());
        Assert.All(unbinds, u => Assert.True(u.Report.IsClean));
        Assert.All(unbinds, u => Assert.True(u.Report.UnmappedByDestroy > 0));
        Assert.All(iommus, iommu => Assert.False(iommu.IsBound));

        // The holder stopped with the system and gave its pages back as late returns: no device call, nothing left.
        AwaitAssert(() => Assert.All(pools, p => Assert.Equal(PagePoolState.Released, p.State)), DeviceHarness.Patience);
        Assert.All(iommus, iommu => Assert.Empty(iommu.Violations));
        Assert.Equal(unbinds.Sum(u => u.Report.StillHeld), pools.Sum(p => p.GetStats().LateReturns));
    }
}

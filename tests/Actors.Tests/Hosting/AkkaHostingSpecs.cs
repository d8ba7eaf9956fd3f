using Netmem.Simulation;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Simulation.Traffic;
using Netmem.Pool.Dma;
using Netmem.Stack.Actors;
using Xunit;

namespace Netmem.Actors.Tests.Hosting;

public sealed class AkkaHostingSpecs
{
    [Fact]
    public async Task A_host_composed_with_AddPagePoolRuntime_binds_its_devices_and_unbinds_them_when_it_stops()
    {
        var iommu = new IommuModel("eth0");
        PagePoolRuntime? runtime = null;
        var options = new PagePoolRuntimeOptions
        {
            Devices =
            [
                new DeviceOptions
                {
                    Device = new SimulatedDevice(new SimulatedDeviceOptions
                    {
                        Name = "eth0",
                        Iommu = iommu,
                        TrafficSourceFactory = _ => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [DeviceHarness.Flow(0)], MaxFrames = 1_000 }),
                    }),
                },
            ],
            Consumers = [new ConsumerSpec("holder", [DeviceHarness.Flow(0)], 4_096, ConsumerBehavior.HoldUntilReleased)],
        };
        using IHost host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("hosted", builder => builder
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .AddPagePoolRuntime(options, started => runtime = started)))
            .Build();

        await host.StartAsync();
        var registry = host.Services.GetRequiredService<ActorRegistry>();
        IActorRef stack = await registry.GetAsync<NetworkStackActor>();
        Bound bound = await runtime!.Devices["eth0"].Ask<Bound>(Bind.Instance, TimeSpan.FromSeconds(5));
        await host.StopAsync();
        IReadOnlyList<Unbound> unbinds = await runtime.ShutdownUnbinds.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Same(runtime.Stack, stack);
        Assert.Equal(1, bound.Generation);
        UnbindReport report = Assert.Single(unbinds).Report;
        Assert.True(report.IsClean);
        Assert.False(iommu.IsBound);
        Assert.Empty(iommu.Violations);
    }
}

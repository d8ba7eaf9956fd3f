// The README's "Embedding the runtime" example, compiled and run by ReadmeHostingExampleSpecs: keep the two identical.
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;

namespace Netmem.Actors.Tests.Hosting;

internal static class ReadmeHostingExample
{
    public static async Task<UnbindReport> RunAsync()
    {
        var flow = new FlowKey(IpAddress.FromIPv4(0x0A000001), IpAddress.FromIPv4(0x0A0000FE), 10_000, 5000, IpProtocol.Udp);
        var eth0 = new SimulatedDevice(new SimulatedDeviceOptions
        {
            Name = "eth0",
            TrafficSourceFactory = queue => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [flow], MaxFrames = 10_000 }),
        });
        var options = new PagePoolRuntimeOptions
        {
            Devices = [new DeviceOptions { Device = eth0, QueueCount = 2 }],
            Consumers = [new ConsumerSpec("app", [flow], 1024, ConsumerBehavior.ReleaseAtOnce)],
        };

        using IHost host = new HostBuilder()
            .ConfigureServices(services => services.AddPagePoolRuntime("pagepool", options))
            .Build();
        await host.StartAsync();

        PagePoolRuntime runtime = host.Services.GetRequiredService<PagePoolRuntime>();
        Unbound unbound = await runtime.Devices["eth0"].Ask<Unbound>(Unbind.Instance, TimeSpan.FromSeconds(10));
        // unbound.Report: per-pool destroy reports; every page still held by a socket was unmapped before this reply.
        await host.StopAsync();   // CoordinatedShutdown unbinds every device that is still bound
        return unbound.Report;
    }
}

using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Xunit;

namespace Netmem.Actors.Tests.Hosting;

public sealed class AkkaHostingSpecs
{
    [Fact]
    public async Task The_README_hosting_example_runs_and_its_unbind_is_clean()
    {
        UnbindReport report = await ReadmeHostingExample.RunAsync();

        Assert.True(report.IsClean, string.Join("; ", report.Phases.Select(p => $"{p.Phase} {p.Outcome} {p.Detail}")));
        Assert.Equal(2, report.Pools.Count);
    }

    [Fact]
    public async Task A_hosted_runtime_is_resolvable_binds_its_devices_leaves_no_dead_letters_and_unbinds_when_the_host_stops()
    {
        var device = Device("eth0", 1_000);
        var deadLetters = new List<object>();
        using IHost host = new HostBuilder()
            .ConfigureServices(services => services.AddPagePoolRuntime("hosted", Options(device, holding: true), (builder, _) => builder
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .WithActors((system, _) => system.ActorOf(Props.Create(() => new DeadLetterCollector(deadLetters)), "dead-letters"))))
            .Build();

        await host.StartAsync();
        PagePoolRuntime runtime = host.Services.GetRequiredService<PagePoolRuntime>();
        IActorRef stack = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<NetworkStackActor>();
        Bound bound = await runtime.Devices["eth0"].Ask<Bound>(Bind.Instance, TimeSpan.FromSeconds(5));
        await Task.Delay(300);
        object[] seen;
        lock (deadLetters)
        {
            seen = deadLetters.ToArray();
        }

        await host.StopAsync();
        IReadOnlyList<Unbound> unbinds = await runtime.ShutdownUnbinds.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Empty(seen);
        Assert.Same(runtime.Stack, stack);
        Assert.Equal(1, bound.Generation);
        UnbindReport report = Assert.Single(unbinds).Report;
        Assert.True(report.IsClean);
        Assert.False(device.Iommu.IsBound);
        Assert.Empty(device.Iommu.Violations);
    }

    [Theory]
    [InlineData("no devices", "at least one device")]
    [InlineData("zero queues", "QueueCount must be at least 1")]
    [InlineData("zero destroy timeout", "DestroyTimeout must be positive")]
    [InlineData("duplicate names", "eth0 is used twice")]
    public async Task Bad_options_fail_the_host_start_with_a_message_that_says_which(string problem, string expected)
    {
        DeviceOptions good = new() { Device = Device("eth0", 0) };
        PagePoolRuntimeOptions options = problem switch
        {
            "no devices" => new PagePoolRuntimeOptions { Devices = [] },
            "zero queues" => new PagePoolRuntimeOptions { Devices = [good with { QueueCount = 0 }] },
            "zero destroy timeout" => new PagePoolRuntimeOptions { Devices = [good with { DestroyTimeout = TimeSpan.Zero }] },
            _ => new PagePoolRuntimeOptions { Devices = [good, good] },
        };
        using IHost host = new HostBuilder().ConfigureServices(services => services.AddPagePoolRuntime("refused", options)).Build();

        var failure = await Assert.ThrowsAnyAsync<ArgumentException>(() => host.StartAsync());

        Assert.Contains(expected, failure.Message);
    }

    private static SimulatedDevice Device(string name, long frames) => new(new SimulatedDeviceOptions
    {
        Name = name,
        TrafficSourceFactory = _ => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [DeviceHarness.Flow(0)], MaxFrames = frames }),
    });

    private static PagePoolRuntimeOptions Options(SimulatedDevice device, bool holding) => new()
    {
        Devices = [new DeviceOptions { Device = device }],
        Consumers = [new ConsumerSpec("holder", [DeviceHarness.Flow(0)], 4_096, holding ? ConsumerBehavior.HoldUntilReleased : ConsumerBehavior.ReleaseAtOnce)],
    };

    private sealed class DeadLetterCollector : ReceiveActor
    {
        public DeadLetterCollector(List<object> seen)
        {
            Context.System.EventStream.Subscribe(Self, typeof(AllDeadLetters));
            Receive<AllDeadLetters>(letter =>
            {
                lock (seen)
                {
                    seen.Add(letter.Message);
                }
            });
        }
    }
}

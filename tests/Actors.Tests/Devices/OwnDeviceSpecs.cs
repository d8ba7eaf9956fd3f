using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class OwnDeviceSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [Fact]
    public async Task A_device_written_against_the_abstraction_alone_unbinds_clean_while_a_consumer_holds_its_pages()
    {
        const int frames = 300;
        var device = new OwnDevice("own0", DeviceHarness.Flow(0), frames);
        PagePoolRuntime runtime = PagePoolRuntime.Start(Sys, new PagePoolRuntimeOptions
        {
            Devices = [new DeviceOptions { Device = device, BindOnStart = false }],
        });
        IActorRef supervisor = runtime.Devices["own0"];
        var spec = new ConsumerSpec("holder", [DeviceHarness.Flow(0)], 4_096, ConsumerBehavior.HoldUntilReleased);
        IActorRef holder = (await runtime.Stack.Ask<ConsumerOpened>(new OpenConsumer(spec), DeviceHarness.Patience)).Consumer;
        await supervisor.Ask<Bound>(Bind.Instance, DeviceHarness.Patience);
        await AwaitAssertAsync(async () => Assert.Equal(frames, (await holder.Ask<ConsumerStatus>(GetConsumerStatus.Instance, DeviceHarness.Patience)).Held), DeviceHarness.Patience);

        UnbindReport report = (await supervisor.Ask<Unbound>(Unbind.Instance, DeviceHarness.Patience)).Report;

        Assert.True(report.IsClean, string.Join("; ", report.Phases.Select(p => $"{p.Phase} {p.Outcome} {p.Detail}")));
        Assert.Equal(frames, report.UnmappedByDestroy);
        Assert.Equal(frames, report.StillHeld);
        Assert.Equal(0, device.LeakedAtTeardown);
        Assert.Equal(0, device.LiveMappings);
        holder.Tell(ReleaseHeld.Instance);
        await Task.Delay(300);
        Assert.Equal(0, device.Violations);
    }
}

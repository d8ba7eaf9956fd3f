// The test of the README's "Testing your consumers" section, as a user writes it (in the user's own namespace), compiled and run.
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Netmem.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace MyApp.Tests;

/// <summary>The consumer under test: it reports each packet's payload length and disposes the packet.</summary>
public sealed class PayloadCounter : ReceiveActor
{
    public PayloadCounter(IActorRef reportTo) =>
        Receive<ReceivedPacket>(packet =>
        {
            using (packet)
            {
                reportTo.Tell(packet.Payload.Length);
            }
        });
}

public sealed class PayloadCounterSpecs(ITestOutputHelper output) : TestKit(DeviceUnderTest.VirtualTime, output)
{
    [Fact]
    public void The_payload_counter_reads_every_packet_and_gives_every_page_back()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions { Queues = 2 });
        FlowKey flow = DeviceUnderTest.Flow(0);
        var lengths = CreateTestProbe();
        device.Route(flow, Sys.ActorOf(Props.Create(() => new PayloadCounter(lengths.Ref))));
        device.Bind();

        device.Inject(flow, count: 100, frameLength: 256);

        Assert.All(lengths.ReceiveN(100, TimeSpan.FromSeconds(15)), length => Assert.Equal(256 - 42, length));
        UnbindReport report = device.Unbind();
        device.AssertUnboundClean(report);
        device.AssertNoIommuViolation();
        device.AssertNoPageLeaked();
    }
}

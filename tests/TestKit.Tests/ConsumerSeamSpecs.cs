using Netmem.Stack.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class ConsumerSeamSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [Fact]
    public void A_test_probe_standing_in_for_a_consumer_gets_each_packet_of_its_flow_intact_and_owns_it_until_disposed()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions { Queues = 2 });
        var consumer = CreateTestProbe();
        device.Route(DeviceUnderTest.Flow(1), consumer.Ref);
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(1), count: 3, frameLength: 100);
        device.Inject(DeviceUnderTest.Flow(2), count: 5);

        var packets = consumer.ReceiveN(3).Cast<ReceivedPacket>().ToArray();
        consumer.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.All(packets, p => Assert.Equal(DeviceUnderTest.Flow(1), p.Flow));
        Assert.Equal([0, 1, 2], packets.Select(p => p.Payload[0]));
        device.AssertInflightEquals(3);
        foreach (ReceivedPacket packet in packets)
        {
            packet.Dispose();
        }

        device.AssertNoPageLeaked();
    }

    [Fact]
    public async Task A_socket_the_test_reads_itself_with_await_foreach_gets_every_injected_packet_and_disposing_them_returns_every_page()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        SocketConsumer socket = device.OpenSocket([DeviceUnderTest.Flow(0)]);
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(0), count: 20);

        int read = 0;
        await foreach (ReceivedPacket packet in socket.Reader.ReadAllAsync())
        {
            using (packet)
            {
                if (++read == 20)
                {
                    break;
                }
            }
        }

        socket.Complete();
        Assert.Equal(0, socket.DrainedAtClose);
        device.AssertUnboundClean(device.Unbind());
        device.AssertNoPageLeaked();
    }

    [Fact]
    public void A_frame_the_stack_cannot_parse_is_counted_dropped_and_its_page_comes_back()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        device.Bind();

        device.Inject(new byte[60], queue: 0);

        device.AssertNoPageLeaked();
        device.AssertUnboundClean(device.Unbind());
    }
}

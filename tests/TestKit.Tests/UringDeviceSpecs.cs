using System.Net;
using System.Net.Sockets;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.TestSupport;
using Netmem.Uring;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

/// <summary>
/// The same scenario with the device swapped: the kernel through io_uring, receiving whole frames from an AF_PACKET
/// socket on <c>lo</c> (needs root or CAP_NET_RAW and io_uring enabled, as tests/Uring.Tests does). The stack parses
/// what arrives; the kit's seams and assertions are the same as on the simulated device.
/// </summary>
public sealed class UringDeviceSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [PrivilegedFact]
    public void A_holding_consumer_on_the_real_device_accounts_for_every_datagram_and_the_unbind_is_clean()
    {
        const int datagrams = 50;
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var flow = new FlowKey(
            IpAddress.FromIPv4(0x7F00_0001u), IpAddress.FromIPv4(0x7F00_0001u),
            (ushort)((IPEndPoint)sender.LocalEndPoint!).Port, (ushort)((IPEndPoint)sink.LocalEndPoint!).Port, IpProtocol.Udp);
        var uring = new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo"), Name = "uring-lo", SlotsPerQueue = 1024 });
        var device = DeviceUnderTest.Start(this, uring);
        var holder = device.OpenConsumer([flow], ConsumerBehavior.HoldUntilReleased);
        device.Bind();

        for (int i = 0; i < datagrams; i++)
        {
            sender.SendTo(new byte[100], sink.LocalEndPoint!);
        }

        AwaitAssert(() => Assert.Equal(datagrams, holder.Status().Held), TimeSpan.FromSeconds(10));
        device.AssertInflightEquals(datagrams);
        UnbindReport report = device.Unbind();
        device.AssertUnboundClean(report);
        device.AssertInflightEquals(datagrams);
        Assert.Equal(datagrams, holder.ReleaseHeld());
        device.AssertNoIommuViolation();
        device.AssertNoPageLeaked();
    }
}

using System.Net;
using System.Net.Sockets;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
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
    /// <summary>Why this does not run yet: the real device cannot be bound through the device supervisor on this main.</summary>
    private const string RealDeviceCannotBindThroughTheRuntime =
        "UringBinding.OpenRxQueue requires the pool's Device to be its own registered-buffer table by reference, but the runtime's "
        + "GuardedDeviceBinding wraps every queue's DMA API (and so does the kit's seam), so the driver fails to open the queue "
        + "('The pool does not map its pages through queue 0's DMA API') and is stopped after its restarts. The uring2 / chaos2 branches "
        + "drop that identity check (commit b33766b); with it applied this spec passes. Un-skip once it is merged.";

    [Fact(Skip = RealDeviceCannotBindThroughTheRuntime)]
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

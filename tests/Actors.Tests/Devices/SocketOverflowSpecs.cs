extern alias netmemtestkit;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using netmemtestkit::Netmem.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class SocketOverflowSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_socket_queue_that_overflows_counts_its_drops_and_leaks_no_page()
    {
        const int frames = 600;
        const int capacity = 16;
        var device = DeviceUnderTest.StartSimulated(this);

        // A socket nobody reads: the first 16 packets fill its queue, every later one is dropped.
        var socket = device.OpenSocket([DeviceUnderTest.Flow(0)], "unread", capacity);
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), frames);

        Assert.Equal(capacity, socket.Delivered);
        Assert.Equal(frames - capacity, socket.DroppedQueueFull);
        device.AssertInflightEquals(capacity);
        UnbindReport report = device.Unbind();
        device.AssertUnboundClean(report);
        device.AssertNoIommuViolation();
        Assert.Equal(capacity, report.StillHeld);
        socket.Complete();
        Assert.Equal(capacity, socket.DrainedAtClose);
        device.AssertNoPageLeaked();
    }
}

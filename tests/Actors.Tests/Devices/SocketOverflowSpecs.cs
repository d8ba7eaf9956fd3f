using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Stack.Sockets;
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
        var device = DeviceHarness.Start(this, new HarnessOptions { Queues = 1, Flows = 1, FramesPerQueue = frames, FramesPerSecond = 0 });

        // A socket nobody reads: the first 16 packets fill its queue, every later one is dropped.
        var socket = new SocketConsumer("unread", capacity);
        device.Demultiplexer.Bind(DeviceHarness.Flow(0), socket);
        device.Bind();

        device.AwaitAssert(() => Assert.Equal(frames, socket.Delivered + socket.DroppedQueueFull));
        Assert.Equal(capacity, socket.Delivered);
        Assert.Equal(frames - capacity, socket.DroppedQueueFull);
        Assert.Equal(frames - capacity, device.Demultiplexer.DroppedByConsumer);
        Assert.Equal(64 + capacity, device.PagesLent);

        UnbindReport report = device.Unbind();

        device.AssertIommuClean(report);
        Assert.Equal(capacity, report.StillHeld);
        Assert.Equal(capacity, device.PoolInflight);
        socket.Complete();
        Assert.Equal(capacity, socket.DrainedAtClose);
        device.AssertEveryPageCameBack();
    }
}

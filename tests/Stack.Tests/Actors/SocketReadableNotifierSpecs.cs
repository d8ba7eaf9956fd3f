using Akka.TestKit.Xunit2;
using Netmem.Stack.Actors;
using Netmem.Stack.Sockets;
using Netmem.Stack.Tests.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Stack.Tests.Actors;

public sealed class SocketReadableNotifierSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private readonly FramePool _frames = new("notifier-specs");

    [Fact]
    public void An_armed_wait_tells_once_when_a_packet_arrives_and_again_at_once_if_packets_are_still_queued()
    {
        using var socket = new SocketConsumer("app", 8);
        var actor = CreateTestProbe();
        var notifier = new SocketReadableNotifier(socket, actor.Ref);

        notifier.Arm();
        actor.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        socket.TryDeliver(_frames.Receive(FramePool.Flow()));
        SocketReadable first = actor.ExpectMsg<SocketReadable>();
        notifier.Arm();
        SocketReadable second = actor.ExpectMsg<SocketReadable>();

        Assert.True(first.Open);
        Assert.Same(socket, first.Socket);
        Assert.Same(first, second);
        actor.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_wait_on_a_socket_that_closes_tells_closed()
    {
        var socket = new SocketConsumer("app", 8);
        var actor = CreateTestProbe();
        var notifier = new SocketReadableNotifier(socket, actor.Ref);
        notifier.Arm();

        socket.Complete(new InvalidOperationException("device unbound"));

        Assert.False(actor.ExpectMsg<SocketReadable>().Open);
    }

    protected override void Dispose(bool disposing)
    {
        _frames.Dispose();
        base.Dispose(disposing);
    }
}

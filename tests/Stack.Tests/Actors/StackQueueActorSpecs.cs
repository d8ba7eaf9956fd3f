using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Sockets;
using Xunit;
using Xunit.Abstractions;
using static Netmem.Stack.Tests.Actors.StackActorFixture;

namespace Netmem.Stack.Tests.Actors;

public sealed class StackQueueActorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private readonly PagePool _pool = new(new PagePoolOptions());

    [Fact]
    public void Each_frame_of_a_batch_reaches_the_socket_of_its_flow_and_the_rest_go_back_to_the_pool()
    {
        var demultiplexer = new FlowDemultiplexer();
        var socket = new SocketConsumer("app", 64);
        demultiplexer.Bind(Bound, socket);
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(demultiplexer, "eth0", 0));

        queue.Tell(new RxBatch("eth0", 0, [Frame(_pool, Bound), Frame(_pool, Unbound), Garbage(_pool), Frame(_pool, Bound, 300)]));
        queue.Tell(GetStackQueueStatus.Instance);
        StackQueueStatus status = ExpectMsg<StackQueueStatus>();

        Assert.Equal(new StackQueueStatus(1, 4), status);
        Assert.Equal(2, socket.QueuedCount);
        Assert.Equal(1, demultiplexer.DroppedNoSocket);
        Assert.Equal(1, demultiplexer.DroppedNotParsed);
        Assert.Equal(2, Lent(_pool));
        Assert.True(socket.Reader.TryRead(out ReceivedPacket first));
        Assert.Equal(Bound, first.Flow);
        first.Dispose();
        socket.Complete();
        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public void A_frame_whose_handle_the_pool_refuses_fails_the_actor_but_the_frames_after_it_go_back_to_the_pool()
    {
        var demultiplexer = new FlowDemultiplexer();
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(demultiplexer, "eth0", 0));
        RxFrame returned = Frame(_pool, Bound);
        returned.Netmem.ReturnToPool();
        EventFilter.Exception<Pool.Misuse.UseAfterReturnException>().ExpectOne(() =>
            queue.Tell(new RxBatch("eth0", 0, [Frame(_pool, Unbound), returned, Frame(_pool, Bound), Frame(_pool, Unbound)])));

        AwaitAssert(() => Assert.Equal(0, Lent(_pool)));
        queue.Tell(GetStackQueueStatus.Instance);
        Assert.Equal(new StackQueueStatus(0, 0), ExpectMsg<StackQueueStatus>());
    }
}

using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
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

    [Fact]
    public void A_batch_that_fails_half_way_still_counts_the_packets_it_queued()
    {
        var demultiplexer = new FlowDemultiplexer();
        var socket = new SocketConsumer("app", 64);
        demultiplexer.Bind(Bound, socket);
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(demultiplexer, "eth0", 0));
        RxFrame returned = Frame(_pool, Bound);
        returned.Netmem.ReturnToPool();
        EventFilter.Exception<Pool.Misuse.UseAfterReturnException>().ExpectOne(() =>
            queue.Tell(new RxBatch("eth0", 0, [Frame(_pool, Bound), Frame(_pool, Bound), returned, Frame(_pool, Bound)])));

        AwaitAssert(() => Assert.Equal(2, Lent(_pool)));
        Assert.Equal((2, 2L, 2L), (socket.QueuedCount, socket.Delivered, demultiplexer.Queued));
        socket.Complete();
        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public void A_pooled_batch_goes_back_to_its_pool_once_the_stack_has_handled_it()
    {
        var demultiplexer = new FlowDemultiplexer();
        var socket = new SocketConsumer("app", 64);
        demultiplexer.Bind(Bound, socket);
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(demultiplexer, "eth0", 0));
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = Rent(batches);
        batch.Add(Frame(_pool, Bound));
        batch.Add(Frame(_pool, Unbound));

        queue.Tell(batch);
        queue.Tell(GetStackQueueStatus.Instance);
        ExpectMsg<StackQueueStatus>();

        Assert.Equal(1, batches.FreeCount);
        Assert.Same(batch, Rent(batches));
        Assert.Equal((1, 1L), (socket.QueuedCount, socket.Delivered));
        socket.Complete();
        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public void A_pooled_batch_whose_handling_fails_is_recycled_after_its_remaining_frames_are_returned()
    {
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(new FlowDemultiplexer(), "eth0", 0));
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = Rent(batches);
        RxFrame returned = Frame(_pool, Bound);
        returned.Netmem.ReturnToPool();
        batch.Add(returned);
        batch.Add(Frame(_pool, Bound));
        batch.Add(Frame(_pool, Unbound));

        EventFilter.Exception<Pool.Misuse.UseAfterReturnException>().ExpectOne(() => queue.Tell(batch));

        AwaitAssert(() => Assert.Equal((0, 1), (Lent(_pool), batches.FreeCount)));
    }

    [Fact]
    public void A_batch_of_udp_payloads_reaches_the_socket_of_the_declared_flow_each_payload_whole_and_byte_for_byte()
    {
        var demultiplexer = new FlowDemultiplexer();
        var socket = new SocketConsumer("app", 64);
        demultiplexer.Bind(Bound, socket);
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(demultiplexer, "udp0", 0));
        byte[][] payloads = [[1, 2, 3], Enumerable.Range(0, 1472).Select(i => (byte)i).ToArray(), [0xEE]];
        var batches = new RxBatchPool("udp0", 0) { Format = RxFrameFormat.UdpPayloads(Bound) };
        RxBatch batch = Rent(batches);
        foreach (byte[] payload in payloads)
        {
            batch.Add(Payload(_pool, payload));
        }

        queue.Tell(batch);
        queue.Tell(GetStackQueueStatus.Instance);

        Assert.Equal(new StackQueueStatus(1, 3), ExpectMsg<StackQueueStatus>());
        Assert.Equal(0, demultiplexer.DroppedNotParsed);
        foreach (byte[] payload in payloads)
        {
            Assert.True(socket.Reader.TryRead(out ReceivedPacket packet));
            using (packet)
            {
                Assert.Equal(Bound, packet.Flow);
                Assert.Equal(ParseStatus.Ok, packet.Packet.Status);
                Assert.Equal(payload, packet.Payload.ToArray());
                Assert.Equal(payload, packet.Frame.ToArray());
            }
        }

        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public void Frames_of_a_device_that_declares_udp_payloads_are_not_parsed_as_ethernet_and_ethernet_batches_still_are()
    {
        var demultiplexer = new FlowDemultiplexer();
        var payloads = new SocketConsumer("payloads", 64);
        var frames = new SocketConsumer("frames", 64);
        demultiplexer.Bind(Unbound, payloads);
        demultiplexer.Bind(Bound, frames);
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(demultiplexer, "eth0", 0));

        // The same bytes, a whole frame of the flow Bound: read as a UDP payload it belongs to the declared flow.
        queue.Tell(new RxBatch("eth0", 0, [Frame(_pool, Bound)], RxFrameFormat.UdpPayloads(Unbound)));
        queue.Tell(new RxBatch("eth0", 0, [Frame(_pool, Bound)]));
        queue.Tell(GetStackQueueStatus.Instance);

        Assert.Equal(new StackQueueStatus(2, 2), ExpectMsg<StackQueueStatus>());
        Assert.Equal((1, 1), (payloads.QueuedCount, frames.QueuedCount));
        payloads.Complete();
        frames.Complete();
        Assert.Equal(0, Lent(_pool));
    }
}

using Netmem.Pool;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

public sealed class FlowDemultiplexerSpecs : IDisposable
{
    private readonly FramePool _frames = new();

    public void Dispose() => _frames.Dispose();

    [Fact]
    public void A_packet_goes_to_the_consumer_bound_to_its_flow()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        using var dns = new SocketConsumer("dns", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);
        demultiplexer.Bind(FramePool.Flow(53), dns);

        DispatchOutcome outcome = Dispatch(demultiplexer, FramePool.Flow(53));

        Assert.Equal(DispatchOutcome.Queued, outcome);
        Assert.Equal((0, 1), (web.QueuedCount, dns.QueuedCount));
        Assert.True(dns.Reader.TryRead(out ReceivedPacket packet));
        using (packet)
        {
            Assert.Equal(FramePool.Flow(53), packet.Flow);
        }

        Assert.Equal(1, demultiplexer.Queued);
    }

    [Fact]
    public void A_packet_the_demultiplexer_queued_is_handed_over_and_cannot_be_delivered_again()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        using var other = new SocketConsumer("other", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);

        Assert.Equal(DispatchOutcome.Queued, Dispatch(demultiplexer, FramePool.Flow(80)));
        Assert.True(web.Reader.TryRead(out ReceivedPacket packet));

        Assert.Throws<InvalidOperationException>(() => other.TryDeliver(packet));
        Assert.Throws<InvalidOperationException>(() => web.TryDeliver(packet));
        Assert.Equal((0, 0, 1L), (web.QueuedCount, other.QueuedCount, web.Delivered));
        packet.Dispose();
        Assert.Throws<ObjectDisposedException>(() => other.TryDeliver(packet));
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void A_packet_no_socket_wants_is_dropped_its_page_returned_and_counted()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);

        DispatchOutcome outcome = Dispatch(demultiplexer, FramePool.Flow(81));

        Assert.Equal(DispatchOutcome.DroppedNoSocket, outcome);
        Assert.Equal(1, demultiplexer.DroppedNoSocket);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void The_unmatched_consumer_receives_packets_of_unbound_flows()
    {
        using var unmatched = new SocketConsumer("sniffer", 8);
        var demultiplexer = new FlowDemultiplexer(unmatched);

        DispatchOutcome outcome = Dispatch(demultiplexer, FramePool.Flow(81));

        Assert.Equal(DispatchOutcome.Queued, outcome);
        Assert.Equal(1, unmatched.QueuedCount);
        Assert.Equal(0, demultiplexer.DroppedNoSocket);
    }

    [Fact]
    public void A_packet_the_parser_did_not_finish_is_dropped_and_its_page_returned()
    {
        using var unmatched = new SocketConsumer("sniffer", 8);
        var demultiplexer = new FlowDemultiplexer(unmatched);
        (NetmemRef page, _, _) = _frames.WriteFrame(FramePool.Flow());
        ParsedPacket truncated = PacketParser.Parse(page.GetSpan().Slice(FramePool.Headroom, 30));

        DispatchOutcome outcome = demultiplexer.Dispatch(page, FramePool.Headroom, 30, truncated);

        Assert.Equal(DispatchOutcome.DroppedNotParsed, outcome);
        Assert.Equal(1, demultiplexer.DroppedNotParsed);
        Assert.Equal(0, unmatched.QueuedCount);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void A_packet_a_full_consumer_refuses_is_counted_as_refused_and_its_page_returned()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var slow = new SocketConsumer("slow", 1);
        demultiplexer.Bind(FramePool.Flow(), slow);

        DispatchOutcome[] outcomes = [Dispatch(demultiplexer, FramePool.Flow()), Dispatch(demultiplexer, FramePool.Flow())];

        Assert.Equal([DispatchOutcome.Queued, DispatchOutcome.DroppedByConsumer], outcomes);
        Assert.Equal((1, 1), (demultiplexer.DroppedByConsumer, slow.DroppedQueueFull));
        Assert.Equal(1, _frames.Outstanding);
    }

    [Fact]
    public void Binding_a_flow_another_consumer_holds_is_refused_and_keeps_the_first_binding()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var first = new SocketConsumer("first", 8);
        using var second = new SocketConsumer("second", 8);
        demultiplexer.Bind(FramePool.Flow(), first);

        FlowAlreadyBoundException refused = Assert.Throws<FlowAlreadyBoundException>(() => demultiplexer.Bind(FramePool.Flow(), second));

        Assert.Equal(FramePool.Flow(), refused.Flow);
        Assert.True(demultiplexer.TryGetConsumer(FramePool.Flow(), out SocketConsumer bound));
        Assert.Same(first, bound);
        Dispatch(demultiplexer, FramePool.Flow());
        Assert.Equal((1, 0), (first.QueuedCount, second.QueuedCount));
    }

    [Fact]
    public void Binding_the_same_consumer_twice_is_harmless()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var consumer = new SocketConsumer("app", 8);

        demultiplexer.Bind(FramePool.Flow(), consumer);
        demultiplexer.Bind(FramePool.Flow(), consumer);

        Assert.Equal(1, demultiplexer.BoundFlowCount);
    }

    [Fact]
    public void After_unbinding_a_flow_its_packets_have_no_socket()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var consumer = new SocketConsumer("app", 8);
        demultiplexer.Bind(FramePool.Flow(), consumer);

        Assert.True(demultiplexer.Unbind(FramePool.Flow()));
        Assert.False(demultiplexer.Unbind(FramePool.Flow()));

        Assert.Equal(DispatchOutcome.DroppedNoSocket, Dispatch(demultiplexer, FramePool.Flow()));
    }

    [Fact]
    public void Unbinding_for_a_consumer_leaves_a_successor_s_binding_alone()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var closed = new SocketConsumer("old", 8);
        using var successor = new SocketConsumer("new", 8);
        demultiplexer.Bind(FramePool.Flow(), closed);
        demultiplexer.Unbind(FramePool.Flow(), closed);
        demultiplexer.Bind(FramePool.Flow(), successor);

        bool removed = demultiplexer.Unbind(FramePool.Flow(), closed);

        Assert.False(removed);
        Assert.True(demultiplexer.TryGetConsumer(FramePool.Flow(), out SocketConsumer bound));
        Assert.Same(successor, bound);
    }

    [Fact]
    public void A_frame_in_a_fragment_is_routed_and_its_slice_returned_when_dropped()
    {
        var demultiplexer = new FlowDemultiplexer();
        NetmemFragment fragment = _frames.Pool.AllocateFragment(128);
        FrameBuilder.Write(fragment.GetSpan(), new FrameSpec(FramePool.Flow(), 128));
        ParsedPacket packet = PacketParser.Parse(fragment.GetSpan()[..128]);

        DispatchOutcome outcome = demultiplexer.Dispatch(fragment, 128, packet);

        Assert.Equal(DispatchOutcome.DroppedNoSocket, outcome);
        Assert.Throws<Pool.Misuse.DoubleReturnException>(() => fragment.ReturnToPool());
    }

    [Fact]
    public void Dispatching_a_frame_whose_payload_lies_outside_it_returns_the_page_and_throws()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var consumer = new SocketConsumer("app", 8);
        demultiplexer.Bind(FramePool.Flow(), consumer);
        (NetmemRef page, int frameLength, ParsedPacket packet) = _frames.WriteFrame(FramePool.Flow());

        Assert.Throws<ArgumentException>(() => demultiplexer.Dispatch(page, FramePool.Headroom, frameLength - 10, packet));

        Assert.Equal(0, _frames.Outstanding);
        Assert.Equal(0, consumer.QueuedCount);
    }

    [Fact]
    public async Task Dispatching_from_two_queues_while_the_flow_is_bound_and_unbound_accounts_for_every_page()
    {
        const int PerQueue = 5_000;
        var demultiplexer = new FlowDemultiplexer();
        var consumer = new SocketConsumer("app", 64);
        using var secondQueue = new FramePool("second-queue");
        FramePool[] queues = [_frames, secondQueue];
        using var stop = new CancellationTokenSource();

        // Pages are written before the race: a pool allocates only on its owner's thread.
        var work = queues.Select(queue => Enumerable.Range(0, PerQueue).Select(_ => queue.WriteFrame(FramePool.Flow())).ToArray()).ToArray();
        Task reader = Task.Run(async () =>
        {
            await foreach (ReceivedPacket packet in consumer.Reader.ReadAllAsync())
            {
                packet.Dispose();
            }
        });
        Task binder = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                demultiplexer.Bind(FramePool.Flow(), consumer);
                Thread.Yield();
                demultiplexer.Unbind(FramePool.Flow(), consumer);
            }
        });
        Task[] dispatchers = work.Select(frames => Task.Run(() =>
        {
            foreach ((NetmemRef page, int frameLength, ParsedPacket packet) in frames)
            {
                demultiplexer.Dispatch(page, FramePool.Headroom, frameLength, packet);
            }
        })).ToArray();

        await Task.WhenAll(dispatchers).WaitAsync(TimeSpan.FromSeconds(30));
        stop.Cancel();
        await binder.WaitAsync(TimeSpan.FromSeconds(10));
        consumer.Complete();
        await reader.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2 * PerQueue, demultiplexer.Queued + demultiplexer.DroppedNoSocket + demultiplexer.DroppedByConsumer);
        Assert.Equal(demultiplexer.Queued, consumer.Delivered);
        Assert.Equal(demultiplexer.DroppedByConsumer, consumer.DroppedQueueFull + consumer.DroppedClosed);
        Assert.All(queues, queue => Assert.Equal(0, queue.Outstanding));
    }

    private DispatchOutcome Dispatch(FlowDemultiplexer demultiplexer, FlowKey flow)
    {
        (NetmemRef page, int frameLength, ParsedPacket packet) = _frames.WriteFrame(flow);
        return demultiplexer.Dispatch(page, FramePool.Headroom, frameLength, packet);
    }
}

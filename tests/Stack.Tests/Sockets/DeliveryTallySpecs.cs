using Netmem.Pool;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

public sealed class DeliveryTallySpecs : IDisposable
{
    private readonly FramePool _frames = new();

    public void Dispose() => _frames.Dispose();

    [Fact]
    public void A_batch_counts_its_queued_packets_only_when_it_is_flushed()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);
        DeliveryTally tally = default;

        Assert.Equal(DispatchOutcome.Queued, Dispatch(demultiplexer, FramePool.Flow(80), ref tally));
        Assert.Equal(DispatchOutcome.Queued, Dispatch(demultiplexer, FramePool.Flow(80), ref tally));

        Assert.Equal((2, 0L, 0L), (web.QueuedCount, web.Delivered, demultiplexer.Queued));
        tally.Flush(demultiplexer);
        Assert.Equal((2L, 2L), (web.Delivered, demultiplexer.Queued));
        tally.Flush(demultiplexer);
        Assert.Equal((2L, 2L), (web.Delivered, demultiplexer.Queued));
    }

    [Fact]
    public void A_batch_of_interleaved_flows_counts_each_socket_exactly()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        using var dns = new SocketConsumer("dns", 8);
        using var full = new SocketConsumer("full", 1);
        demultiplexer.Bind(FramePool.Flow(80), web);
        demultiplexer.Bind(FramePool.Flow(53), dns);
        demultiplexer.Bind(FramePool.Flow(22), full);
        DeliveryTally tally = default;

        foreach (ushort port in new ushort[] { 80, 53, 80, 81, 22, 22, 53, 80 })
        {
            Dispatch(demultiplexer, FramePool.Flow(port), ref tally);
        }

        tally.Flush(demultiplexer);
        Assert.Equal((3L, 2L, 1L, 1L), (web.Delivered, dns.Delivered, full.Delivered, full.DroppedQueueFull));
        Assert.Equal((6L, 1L, 1L), (demultiplexer.Queued, demultiplexer.DroppedNoSocket, demultiplexer.DroppedByConsumer));
    }

    [Fact]
    public void A_packet_dispatched_alone_is_counted_as_it_is_queued()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);

        (NetmemRef page, int frameLength, ParsedPacket packet) = _frames.WriteFrame(FramePool.Flow(80));
        demultiplexer.Dispatch(page, FramePool.Headroom, frameLength, packet);

        Assert.Equal((1L, 1L), (web.Delivered, demultiplexer.Queued));
    }

    private DispatchOutcome Dispatch(FlowDemultiplexer demultiplexer, FlowKey flow, ref DeliveryTally tally)
    {
        (NetmemRef page, int frameLength, ParsedPacket packet) = _frames.WriteFrame(flow);
        LastRoute route = default;
        return demultiplexer.Dispatch(page, FramePool.Headroom, frameLength, packet, ref tally, ref route);
    }
}

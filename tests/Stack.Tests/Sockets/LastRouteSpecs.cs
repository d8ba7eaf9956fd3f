using Netmem.Pool;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>
/// A batch remembers its last route (<see cref="LastRoute"/>); every change to the bindings in the middle of a batch
/// must still route the batch's next packet as a fresh look-up would.
/// </summary>
public sealed class LastRouteSpecs : IDisposable
{
    private readonly FramePool _frames = new();
    private DeliveryTally _tally;
    private LastRoute _route;

    public void Dispose() => _frames.Dispose();

    [Fact]
    public void A_flow_unbound_in_the_middle_of_a_batch_has_no_socket_for_the_batch_s_next_packet()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);

        Assert.Equal(DispatchOutcome.Queued, Dispatch(demultiplexer, 80));
        demultiplexer.Unbind(FramePool.Flow(80));

        Assert.Equal(DispatchOutcome.DroppedNoSocket, Dispatch(demultiplexer, 80));
        Assert.Equal(1, web.QueuedCount);
    }

    [Fact]
    public void A_flow_rebound_to_another_socket_in_the_middle_of_a_batch_sends_the_next_packet_there()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var old = new SocketConsumer("old", 8);
        using var successor = new SocketConsumer("successor", 8);
        demultiplexer.Bind(FramePool.Flow(80), old);

        Dispatch(demultiplexer, 80);
        demultiplexer.Unbind(FramePool.Flow(80), old);
        demultiplexer.Bind(FramePool.Flow(80), successor);
        Dispatch(demultiplexer, 80);

        Assert.Equal((1, 1), (old.QueuedCount, successor.QueuedCount));
    }

    [Fact]
    public void An_unmatched_consumer_unbound_in_the_middle_of_a_batch_receives_nothing_more()
    {
        using var sniffer = new SocketConsumer("sniffer", 8);
        var demultiplexer = new FlowDemultiplexer(sniffer);

        Dispatch(demultiplexer, 9_999);
        demultiplexer.UnbindUnmatched(sniffer);

        Assert.Equal(DispatchOutcome.DroppedNoSocket, Dispatch(demultiplexer, 9_999));
        Assert.Equal(1, sniffer.QueuedCount);
    }

    [Fact]
    public void A_flow_bound_in_the_middle_of_a_batch_takes_the_batch_s_next_packet_from_the_unmatched_consumer()
    {
        using var sniffer = new SocketConsumer("sniffer", 8);
        using var web = new SocketConsumer("web", 8);
        var demultiplexer = new FlowDemultiplexer(sniffer);

        Dispatch(demultiplexer, 80);
        demultiplexer.Bind(FramePool.Flow(80), web);
        Dispatch(demultiplexer, 80);

        Assert.Equal((1, 1), (sniffer.QueuedCount, web.QueuedCount));
    }

    [Fact]
    public void A_batch_alternating_two_flows_sends_each_packet_to_its_own_socket()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var web = new SocketConsumer("web", 8);
        using var dns = new SocketConsumer("dns", 8);
        demultiplexer.Bind(FramePool.Flow(80), web);
        demultiplexer.Bind(FramePool.Flow(53), dns);

        foreach (ushort port in new ushort[] { 80, 80, 53, 80, 53, 53 })
        {
            Dispatch(demultiplexer, port);
        }

        Assert.Equal((3, 3), (web.QueuedCount, dns.QueuedCount));
    }

    private DispatchOutcome Dispatch(FlowDemultiplexer demultiplexer, ushort port)
    {
        (NetmemRef page, int frameLength, ParsedPacket packet) = _frames.WriteFrame(FramePool.Flow(port));
        DispatchOutcome outcome = demultiplexer.Dispatch(page, FramePool.Headroom, frameLength, packet, ref _tally, ref _route);
        _tally.Flush(demultiplexer);
        return outcome;
    }
}

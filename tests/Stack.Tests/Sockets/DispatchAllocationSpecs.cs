using Netmem.Pool;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>Every way the demultiplexer drops a packet, and a packet's whole trip through a socket, allocates nothing, measured on this thread.</summary>
[Collection(AllocationMeasuringCollection.Name)]
public sealed class DispatchAllocationSpecs : IDisposable
{
    private const int Packets = 10_000;
    private readonly FramePool _frames = new();

    public void Dispose() => _frames.Dispose();

    [Fact]
    public void Dropping_packets_no_socket_wants_allocates_nothing()
    {
        var demultiplexer = new FlowDemultiplexer();
        ParsedPacket packet = ParsedFrame(FramePool.Flow());
        DispatchMany(demultiplexer, packet, 1_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        DispatchMany(demultiplexer, packet, Packets);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(1_000 + Packets, demultiplexer.DroppedNoSocket);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void Dropping_packets_the_parser_did_not_finish_allocates_nothing()
    {
        var demultiplexer = new FlowDemultiplexer(new SocketConsumer("sniffer", 8));
        ParsedPacket truncated = PacketParser.Parse(new byte[20]);
        DispatchMany(demultiplexer, truncated, 1_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        DispatchMany(demultiplexer, truncated, Packets);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(1_000 + Packets, demultiplexer.DroppedNotParsed);
    }

    [Fact]
    public void Once_a_consumer_is_flooded_its_drops_allocate_nothing_and_are_all_counted()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var flooded = new SocketConsumer("flooded", 4);
        demultiplexer.Bind(FramePool.Flow(), flooded);
        ParsedPacket packet = ParsedFrame(FramePool.Flow());
        DispatchMany(demultiplexer, packet, 1_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        DispatchMany(demultiplexer, packet, Packets);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal((4L, 1_000L + Packets - 4), (flooded.Delivered, flooded.DroppedQueueFull));
        Assert.Equal(1_000 + Packets - 4, demultiplexer.DroppedByConsumer);
        Assert.Equal(4, _frames.Outstanding);
    }

    [Fact]
    public void Queuing_reading_and_disposing_packets_allocates_nothing_once_warm()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var consumer = new SocketConsumer("app", 64);
        demultiplexer.Bind(FramePool.Flow(), consumer);
        ParsedPacket packet = ParsedFrame(FramePool.Flow());

        // Warm: this thread's magazine of free cells and the depot behind it settle (the magazines earlier specs left
        // in the depot, at most MaxRetained cells, are taken and given back).
        const int Warm = 2 * PacketLeasePool.MaxRetained;
        DeliverReadAndDispose(demultiplexer, consumer, packet, Warm);

        long before = GC.GetAllocatedBytesForCurrentThread();
        long read = DeliverReadAndDispose(demultiplexer, consumer, packet, Packets);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(Packets, read);
        Assert.Equal(Warm + Packets, consumer.Delivered);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void A_flooded_consumer_that_catches_up_is_delivered_to_again()
    {
        var demultiplexer = new FlowDemultiplexer();
        using var consumer = new SocketConsumer("catching-up", 2);
        demultiplexer.Bind(FramePool.Flow(), consumer);
        ParsedPacket packet = ParsedFrame(FramePool.Flow());
        DispatchMany(demultiplexer, packet, 5);

        consumer.Reader.TryRead(out ReceivedPacket read);
        read.Dispose();
        DispatchOutcome[] outcomes = [Dispatch(demultiplexer, packet), Dispatch(demultiplexer, packet)];

        Assert.Equal([DispatchOutcome.Queued, DispatchOutcome.DroppedByConsumer], outcomes);
        Assert.Equal((3L, 4L), (consumer.Delivered, consumer.DroppedQueueFull));
    }

    private ParsedPacket ParsedFrame(FlowKey flow)
    {
        (NetmemRef page, _, ParsedPacket packet) = _frames.WriteFrame(flow);
        page.ReturnToPool();
        return packet;
    }

    private DispatchOutcome Dispatch(FlowDemultiplexer demultiplexer, in ParsedPacket packet) =>
        demultiplexer.Dispatch(_frames.Pool.Allocate(), FramePool.Headroom, 128, packet);

    /// <summary>Dispatches packets 25 at a time, then reads and disposes what was queued; returns how many were read.</summary>
    private long DeliverReadAndDispose(FlowDemultiplexer demultiplexer, SocketConsumer consumer, in ParsedPacket packet, int count)
    {
        long read = 0;
        for (int sent = 0; sent < count; sent += 25)
        {
            DispatchMany(demultiplexer, packet, Math.Min(25, count - sent));
            while (consumer.Reader.TryRead(out ReceivedPacket received))
            {
                received.Dispose();
                read++;
            }
        }

        return read;
    }

    private void DispatchMany(FlowDemultiplexer demultiplexer, in ParsedPacket packet, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Dispatch(demultiplexer, packet);
        }
    }
}

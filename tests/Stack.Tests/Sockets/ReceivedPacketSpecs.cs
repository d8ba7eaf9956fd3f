using Netmem.Pool;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

public sealed class ReceivedPacketSpecs : IDisposable
{
    private readonly FramePool _frames = new();

    public void Dispose() => _frames.Dispose();

    [Fact]
    public void Disposing_a_packet_returns_its_page_to_the_pool()
    {
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        Assert.Equal(1, _frames.Outstanding);

        packet.Dispose();

        Assert.Equal(0, _frames.Outstanding);
        Assert.Equal(1, _frames.Pool.GetStats().RecycleRing);
        Assert.True(packet.IsDisposed);
    }

    [Fact]
    public void A_second_dispose_does_nothing()
    {
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        packet.Dispose();
        PagePoolStats before = _frames.Pool.GetStats();

        packet.Dispose();

        Assert.Equal(before, _frames.Pool.GetStats());
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void Racing_disposes_return_the_page_exactly_once()
    {
        const int Packets = 200;
        ReceivedPacket[] packets = Enumerable.Range(0, Packets).Select(_ => _frames.Receive(FramePool.Flow())).ToArray();

        Parallel.For(0, Packets * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => packets[i % Packets].Dispose());

        Assert.Equal(0, _frames.Outstanding);
        Assert.Equal(Packets, _frames.Pool.GetStats().RecycleRing);
    }

    [Fact]
    public void Every_copy_of_a_packet_shares_its_single_dispose()
    {
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        ReceivedPacket copy = packet;

        copy.Dispose();
        packet.Dispose();

        Assert.True(packet.IsDisposed);
        Assert.Equal(1, _frames.Pool.GetStats().RecycleRing);
        Assert.Throws<ObjectDisposedException>(() => packet.Frame.Length);
    }

    [Fact]
    public void A_stale_copy_stays_disposed_and_inert_while_later_packets_reuse_lease_cells()
    {
        ReceivedPacket stale = _frames.Receive(FramePool.Flow());
        ReceivedPacket original = stale;
        original.Dispose();

        for (int i = 0; i < 100; i++)
        {
            ReceivedPacket later = _frames.Receive(FramePool.Flow());

            stale.Dispose();

            Assert.True(stale.IsDisposed);
            Assert.False(later.IsDisposed);
            Assert.Equal(1, _frames.Outstanding);
            Assert.Throws<ObjectDisposedException>(() => stale.Frame.Length);
            later.Dispose();
        }

        Assert.Equal(101, _frames.Pool.GetStats().RecycleRing);
    }

    [Fact]
    public void A_packet_from_a_pool_that_does_not_track_its_pages_is_still_returned_only_once()
    {
        var untracked = new PagePool(new PagePoolOptions { TrackInflight = false });
        NetmemRef page = untracked.Allocate();
        FrameLayout layout = FrameBuilder.Write(page.GetSpan(), new FrameSpec(FramePool.Flow(), 128));
        var packet = new ReceivedPacket(page, 0, layout.FrameLength, PacketParser.Parse(page.GetSpan()[..layout.FrameLength]));

        packet.Dispose();
        packet.Dispose();

        Assert.Equal(1, untracked.GetStats().RecycleRing);
    }

    [Fact]
    public void A_page_returned_behind_the_packets_back_is_reported_by_the_first_dispose_only()
    {
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        packet.Page.ReturnToPool();

        Assert.Throws<Pool.Misuse.DoubleReturnException>(() => packet.Dispose());
        packet.Dispose();

        Assert.True(packet.IsDisposed);
        Assert.Equal(1, _frames.Pool.GetStats().RecycleRing);
    }

    [Fact]
    public void The_default_packet_names_nothing_reads_as_disposed_and_disposing_it_does_nothing()
    {
        ReceivedPacket none = default;

        none.Dispose();

        Assert.True(none.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => none.Frame.Length);
    }

    [Fact]
    public void The_frame_and_payload_are_the_bytes_written_into_the_page()
    {
        using ReceivedPacket packet = _frames.Receive(FramePool.Flow(), frameLength: 200, payloadSeed: 9);

        Assert.Equal(200, packet.Frame.Length);
        Assert.Equal(packet.Frame.ToArray(), packet.Page.GetSpan().Slice(FramePool.Headroom, 200).ToArray());
        Assert.Equal(Enumerable.Range(0, 200 - 42).Select(i => (byte)(9 + i)).ToArray(), packet.Payload.ToArray());
        Assert.Equal(FramePool.Flow(), packet.Flow);
    }

    [Fact]
    public void Reading_a_disposed_packet_is_refused()
    {
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        packet.Dispose();

        Assert.Throws<ObjectDisposedException>(() => packet.Frame.Length);
        Assert.Throws<ObjectDisposedException>(() => packet.Payload.Length);
    }

    [Fact]
    public void A_packet_in_a_fragment_returns_its_slice_and_the_page_recycles_with_the_last_slice()
    {
        ReceivedPacket first = _frames.ReceiveInFragment(FramePool.Flow(), frameLength: 100);
        ReceivedPacket second = _frames.ReceiveInFragment(FramePool.Flow(), frameLength: 100);
        Assert.True(first.IsFragment);
        Assert.Equal(first.Page, second.Page);
        Assert.Equal(FramePool.Flow(), PacketParser.Parse(first.Frame).Flow);

        first.Dispose();
        first.Dispose();
        second.Dispose();

        Assert.Throws<Pool.Misuse.DoubleReturnException>(() => _frames.Pool.ReturnFragment(new NetmemFragment(first.Page, 0, 100)));
    }

    [Fact]
    public void A_default_page_is_refused()
    {
        ParsedPacket packet = PacketParser.Parse(new byte[14]);

        Assert.Throws<ArgumentException>(() => new ReceivedPacket(default(NetmemRef), 0, 14, packet));
    }

    [Fact]
    public void A_payload_outside_the_frame_is_refused_and_the_page_stays_with_the_caller()
    {
        (NetmemRef page, int frameLength, ParsedPacket packet) = _frames.WriteFrame(FramePool.Flow(), frameLength: 128);

        Assert.Throws<ArgumentException>(() => new ReceivedPacket(page, FramePool.Headroom, frameLength - 1, packet));
        Assert.Equal(1, _frames.Outstanding);
        page.ReturnToPool();
    }
}

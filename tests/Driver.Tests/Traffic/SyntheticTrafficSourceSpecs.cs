using Netmem.Simulation.Traffic;
using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Driver.Tests.Traffic;

public sealed class SyntheticTrafficSourceSpecs
{
    private readonly byte[] _buffer = new byte[4096];

    [Fact]
    public void Frames_arrive_at_the_configured_rate_and_those_that_overflow_the_fifo_are_counted_as_missed()
    {
        var clock = new ManualTimeProvider();
        var source = new SyntheticTrafficSource(new SyntheticTrafficOptions
        {
            Flows = [TestFlows.UdpV4],
            FramesPerSecond = 1_000,
            FifoFrames = 10,
            TimeProvider = clock,
        });

        Assert.False(source.TryReceive(_buffer, out _));
        clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(5, Drain(source));

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(10, Drain(source));
        Assert.Equal(90, source.FramesMissed);
        Assert.Equal(15, source.FramesSent);
    }

    [Fact]
    public void Frames_cycle_through_the_flows_with_lengths_from_the_mix_and_parse_back_to_their_flow()
    {
        var source = new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4, TestFlows.TcpV6], MaxFrames = 1_200 });
        var lengths = new Dictionary<int, int>();

        for (int i = 0; i < 1_200; i++)
        {
            Assert.True(source.TryReceive(_buffer, out int length));
            Assert.True(PacketParser.TryParse(_buffer.AsSpan(0, length), out ParsedPacket packet));
            Assert.Equal(i % 2 == 0 ? TestFlows.UdpV4 : TestFlows.TcpV6, packet.Flow);
            lengths[length] = lengths.GetValueOrDefault(length) + 1;
        }

        Assert.False(source.TryReceive(_buffer, out _));
        Assert.Subset(new HashSet<int> { 60, 74, 590, 1514 }, lengths.Keys.ToHashSet());
        Assert.True(lengths[590] > lengths[1514], "the mix weighs 590-byte frames 4:1 against 1514-byte ones");
    }

    [Fact]
    public void Every_frame_is_byte_for_byte_the_one_the_builder_writes_for_its_flow_length_and_sequence_number()
    {
        // Sizes below the headers (50 bytes for UDP over IPv4, 82 for TCP over IPv6, with two tags) are raised to them
        // and those beyond the destination cut to it; 600 frames take every payload seed at least twice.
        FlowKey[] flows = [TestFlows.UdpV4, TestFlows.TcpV6];
        var source = new SyntheticTrafficSource(new SyntheticTrafficOptions
        {
            Flows = flows,
            FrameSizes = [new(20, 1), new(60, 2), new(590, 2), new(1514, 1)],
            VlanCount = 2,
        });
        byte[] destination = new byte[1024];
        byte[] expected = new byte[destination.Length];

        for (int i = 0; i < 600; i++)
        {
            destination.AsSpan().Fill(0xCC);
            Assert.True(source.TryReceive(destination, out int length));
            var spec = new FrameSpec(flows[i % 2], length) { VlanCount = 2, OuterVlanId = 100, InnerVlanId = 200, PayloadSeed = (byte)i };
            FrameBuilder.Write(expected, spec);

            Assert.Contains(length, i % 2 == 0 ? (int[])[50, 60, 590, 1024] : [82, 590, 1024]);
            Assert.Equal(expected.AsSpan(0, length), destination.AsSpan(0, length));
            Assert.Equal(-1, destination.AsSpan(length).IndexOfAnyExcept((byte)0xCC));
        }
    }

    [Fact]
    public void A_stopped_wire_sends_nothing_more()
    {
        var source = new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4] });
        Assert.True(source.TryReceive(_buffer, out _));

        source.Stop();

        Assert.False(source.TryReceive(_buffer, out _));
        Assert.Equal(1, source.FramesSent);
    }

    [Fact]
    public void Receiving_frames_from_a_size_mix_allocates_nothing()
    {
        var source = new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4, TestFlows.TcpV6] });
        Assert.Equal(1_000, Receive(source, 1_000));

        long before = GC.GetAllocatedBytesForCurrentThread();
        int received = Receive(source, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(10_000, received);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Changing_the_lists_after_construction_does_not_change_the_traffic()
    {
        FlowKey[] flows = [TestFlows.UdpV4];
        FrameSizeWeight[] sizes = [new(128, 1)];
        var source = new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = flows, FrameSizes = sizes });

        flows[0] = TestFlows.TcpV6;
        sizes[0] = new FrameSizeWeight(1_000, 1);

        Assert.True(source.TryReceive(_buffer, out int length));
        Assert.True(PacketParser.TryParse(_buffer.AsSpan(0, length), out ParsedPacket packet));
        Assert.Equal((128, TestFlows.UdpV4), (length, packet.Flow));
    }

    [Fact]
    public void Options_without_flows_or_with_a_bad_mix_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [] }));
        Assert.Throws<ArgumentException>(() => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], FrameSizes = [new(64, 0)] }));
    }

    private int Receive(SyntheticTrafficSource source, int frames)
    {
        int received = 0;
        while (received < frames && source.TryReceive(_buffer, out _))
        {
            received++;
        }

        return received;
    }

    private int Drain(SyntheticTrafficSource source)
    {
        int frames = 0;
        while (source.TryReceive(_buffer, out _))
        {
            frames++;
        }

        return frames;
    }
}

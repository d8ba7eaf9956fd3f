using Netmem.Stack.Parsing;
using PacketDotNet;
using Xunit;
using IpProtocol = Netmem.Stack.Parsing.IpProtocol;

namespace Netmem.Stack.Tests.Parsing;

public sealed class FrameBuilderSpecs
{
    [Theory]
    [InlineData(4, IpProtocol.Udp, 0)]
    [InlineData(4, IpProtocol.Tcp, 1)]
    [InlineData(6, IpProtocol.Udp, 2)]
    [InlineData(6, IpProtocol.Tcp, 0)]
    public void The_frame_is_exactly_the_requested_size_and_PacketDotNet_finds_its_checksums_valid(int ipVersion, IpProtocol protocol, int vlanCount)
    {
        FlowKey flow = TestFlows.Make(ipVersion, protocol);
        byte[] frame = new byte[2000];

        FrameLayout layout = FrameBuilder.Write(frame, new FrameSpec(flow, 777) { VlanCount = vlanCount, ComputeTransportChecksum = true, PayloadSeed = 3 });

        Assert.Equal(777, layout.FrameLength);
        Assert.Equal(TestFlows.HeaderLength(ipVersion, protocol, vlanCount), layout.PayloadOffset);
        Assert.Equal(777 - layout.PayloadOffset, layout.PayloadLength);
        Assert.All(frame.AsSpan(777).ToArray(), b => Assert.Equal(0, b));
        Packet parsed = Packet.ParsePacket(LinkLayers.Ethernet, frame[..777]);
        if (parsed.Extract<IPv4Packet>() is { } v4)
        {
            Assert.True(v4.ValidIPChecksum);
        }

        Assert.True(protocol == IpProtocol.Udp ? parsed.Extract<UdpPacket>().ValidUdpChecksum : parsed.Extract<TcpPacket>().ValidTcpChecksum);
    }

    [Fact]
    public void Checksums_and_payload_stay_right_for_every_frame_size_up_to_a_jumbo()
    {
        byte[] frame = new byte[9018];
        for (int length = 74; length <= frame.Length; length += length < 400 ? 1 : 37)
        {
            foreach (FlowKey flow in new[] { TestFlows.Make(4, IpProtocol.Udp), TestFlows.Make(6, IpProtocol.Tcp) })
            {
                FrameLayout layout = FrameBuilder.Write(frame, new FrameSpec(flow, length) { ComputeTransportChecksum = true, PayloadSeed = (byte)length });

                Packet parsed = Packet.ParsePacket(LinkLayers.Ethernet, frame[..length]);
                bool valid = flow.Protocol == IpProtocol.Udp ? parsed.Extract<UdpPacket>().ValidUdpChecksum : parsed.Extract<TcpPacket>().ValidTcpChecksum;
                Assert.True(valid, $"{flow} length {length}");
                byte[] expected = Enumerable.Range(0, layout.PayloadLength).Select(i => (byte)(length + i)).ToArray();
                Assert.True(frame.AsSpan(layout.PayloadOffset, layout.PayloadLength).SequenceEqual(expected), $"{flow} length {length}: payload");
            }
        }
    }

    [Fact]
    public void Without_transport_checksums_the_field_is_left_zero()
    {
        byte[] frame = new byte[100];

        FrameBuilder.Write(frame, new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 100));

        Assert.Equal(0, Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<UdpPacket>().Checksum);
    }

    [Fact]
    public void A_udp_checksum_that_computes_to_zero_is_sent_as_all_ones()
    {
        // The checksum moves with the source port, so some port makes the computed sum 0; find it.
        byte[] frame = new byte[100];
        FlowKey flow = TestFlows.Make(4, IpProtocol.Udp);
        int port = Enumerable.Range(0, 65_536).First(candidate =>
        {
            FrameBuilder.Write(frame, new FrameSpec(new FlowKey(flow.Source, flow.Destination, (ushort)candidate, flow.DestinationPort, flow.Protocol), 100) { ComputeTransportChecksum = true });
            return frame[40] == 0xFF && frame[41] == 0xFF;
        });

        UdpPacket udp = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<UdpPacket>();

        Assert.Equal(port, udp.SourcePort);
        Assert.Equal(0xFFFF, udp.Checksum);
        Assert.True(udp.ValidUdpChecksum);
    }

    [Fact]
    public void The_tcp_fields_come_from_the_spec()
    {
        byte[] frame = new byte[100];

        FrameBuilder.Write(frame, new FrameSpec(TestFlows.Make(4, IpProtocol.Tcp), 100) { TcpSequence = 123_456, TcpFlags = 0x02, HopLimit = 9 });

        Packet parsed = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        Assert.Equal(123_456u, parsed.Extract<TcpPacket>().SequenceNumber);
        Assert.True(parsed.Extract<TcpPacket>().Synchronize);
        Assert.Equal(9, parsed.Extract<IPv4Packet>().TimeToLive);
    }

    [Fact]
    public void An_8021q_outer_tag_can_be_asked_for()
    {
        byte[] frame = new byte[100];

        FrameBuilder.Write(frame, new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 100) { VlanCount = 2, OuterTagType = EtherType.Vlan, OuterVlanId = 5, InnerVlanId = 6 });

        Assert.Equal([0x81, 0x00, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06], frame[12..20]);
    }

    private static readonly Dictionary<string, (FrameSpec Spec, int Capacity)> InvalidSpecs = new()
    {
        ["mixed families"] = (new FrameSpec(new FlowKey(TestFlows.Address("10.0.0.1"), TestFlows.Address("2001:db8::1"), 1, 2, IpProtocol.Udp), 100), 200),
        ["not UDP or TCP"] = (new FrameSpec(TestFlows.Make(4, IpProtocol.Icmp), 100), 200),
        ["three VLAN tags"] = (new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 100) { VlanCount = 3 }, 200),
        ["13-bit VLAN id"] = (new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 100) { VlanCount = 1, OuterVlanId = 4096 }, 200),
        ["outer tag not a TPID"] = (new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 100) { VlanCount = 2, OuterTagType = EtherType.IPv4 }, 200),
        ["shorter than its headers"] = (new FrameSpec(TestFlows.Make(6, IpProtocol.Tcp), 73), 200),
        ["longer than the destination"] = (new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 201), 200),
        ["IPv4 total length over 65535"] = (new FrameSpec(TestFlows.Make(4, IpProtocol.Udp), 65_550), 70_000),
        ["IPv6 payload length over 65535"] = (new FrameSpec(TestFlows.Make(6, IpProtocol.Udp), 65_590), 70_000),
    };

    public static TheoryData<string> InvalidSpecNames() => [.. InvalidSpecs.Keys];

    [Theory]
    [MemberData(nameof(InvalidSpecNames))]
    public void An_invalid_spec_is_refused_before_anything_is_written(string why)
    {
        (FrameSpec spec, int capacity) = InvalidSpecs[why];
        byte[] frame = Enumerable.Repeat((byte)0xEE, capacity).ToArray();

        Assert.ThrowsAny<ArgumentException>(() => FrameBuilder.Write(frame, spec));

        Assert.True(frame.All(b => b == 0xEE), why);
    }

    [Theory]
    [InlineData(65_549)]
    [InlineData(65_589)]
    public void The_largest_frame_an_ip_length_can_state_is_written(int frameLength)
    {
        int ipVersion = frameLength == 65_549 ? 4 : 6;
        byte[] frame = new byte[frameLength];

        FrameBuilder.Write(frame, new FrameSpec(TestFlows.Make(ipVersion, IpProtocol.Udp), frameLength));

        Assert.True(PacketParser.TryParse(frame, out ParsedPacket packet));
        Assert.Equal(frameLength, packet.PayloadOffset + packet.PayloadLength);
    }
}

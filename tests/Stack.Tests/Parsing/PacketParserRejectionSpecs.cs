using System.Buffers.Binary;
using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>Short, inconsistent and foreign frames get the right status, and nothing makes the parser throw.</summary>
public sealed class PacketParserRejectionSpecs
{
    private const int NetworkOffset = 14;
    private const int Ipv4TransportOffset = NetworkOffset + 20;

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(0, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_proper_prefix_of_a_frame_is_truncated(int seed)
    {
        byte[] frame = RandomFrame.FromSeed(seed).Bytes;
        int unpadded = PacketParser.Parse(frame).NetworkOffset + PacketParser.Parse(frame).IpPacketLength;

        for (int length = 0; length < unpadded; length++)
        {
            ParsedPacket packet = PacketParser.Parse(frame.AsSpan(0, length));
            Assert.True(packet.Status == ParseStatus.Truncated, $"seed {seed}, prefix {length}/{unpadded}: {packet.Status}");
        }
    }

    [Fact]
    public void An_ipv4_header_with_another_version_is_malformed() =>
        AssertStatus(ParseStatus.Malformed, Ipv4Udp(frame => frame[NetworkOffset] = 0x55));

    [Fact]
    public void An_ipv4_header_length_below_twenty_bytes_is_malformed() =>
        AssertStatus(ParseStatus.Malformed, Ipv4Udp(frame => frame[NetworkOffset] = 0x44));

    [Fact]
    public void An_ipv4_total_length_shorter_than_its_header_is_malformed() =>
        AssertStatus(ParseStatus.Malformed, Ipv4Udp(frame => BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(NetworkOffset + 2), 19)));

    [Fact]
    public void An_ipv4_total_length_beyond_the_frame_is_truncated() =>
        AssertStatus(ParseStatus.Truncated, Ipv4Udp(frame => BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(NetworkOffset + 2), (ushort)(frame.Length - NetworkOffset + 1))));

    [Fact]
    public void An_ipv4_header_whose_options_run_past_the_frame_is_truncated()
    {
        byte[] frame = PacketDotNetFrames.Build(TestFlows.Make(4, IpProtocol.Udp), 30);
        frame[NetworkOffset] = 0x4F;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(NetworkOffset + 2), 60);
        AssertStatus(ParseStatus.Truncated, frame.AsSpan(0, NetworkOffset + 40).ToArray());
    }

    [Fact]
    public void An_ipv6_header_with_another_version_is_malformed()
    {
        byte[] frame = PacketDotNetFrames.Build(TestFlows.Make(6, IpProtocol.Udp), 20);
        frame[NetworkOffset] = 0x40;
        AssertStatus(ParseStatus.Malformed, frame);
    }

    [Fact]
    public void A_udp_length_below_eight_is_malformed() =>
        AssertStatus(ParseStatus.Malformed, Ipv4Udp(frame => BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(Ipv4TransportOffset + 4), 7)));

    [Fact]
    public void A_udp_length_beyond_the_ip_payload_is_malformed() =>
        AssertStatus(ParseStatus.Malformed, Ipv4Udp(frame => BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(Ipv4TransportOffset + 4), (ushort)(frame.Length - Ipv4TransportOffset + 1))));

    [Fact]
    public void A_udp_length_shorter_than_the_ip_payload_bounds_the_payload()
    {
        byte[] frame = Ipv4Udp(f => BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(Ipv4TransportOffset + 4), 8 + 5));

        Assert.True(PacketParser.TryParse(frame, out ParsedPacket packet));
        Assert.Equal(5, packet.PayloadLength);
    }

    [Fact]
    public void A_tcp_data_offset_below_five_words_is_malformed()
    {
        byte[] frame = PacketDotNetFrames.Build(TestFlows.Make(4, IpProtocol.Tcp), 20);
        frame[Ipv4TransportOffset + 12] = 4 << 4;
        AssertStatus(ParseStatus.Malformed, frame);
    }

    [Fact]
    public void A_tcp_data_offset_beyond_the_segment_is_truncated()
    {
        byte[] frame = PacketDotNetFrames.Build(TestFlows.Make(4, IpProtocol.Tcp), 20);
        frame[Ipv4TransportOffset + 12] = 15 << 4;
        AssertStatus(ParseStatus.Truncated, frame);
    }

    [Fact]
    public void An_arp_frame_is_unsupported_and_reports_its_ether_type()
    {
        byte[] frame = new byte[60];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), (ushort)EtherType.Arp);

        ParsedPacket packet = AssertStatus(ParseStatus.Unsupported, frame);
        Assert.Equal(EtherType.Arp, packet.EtherType);
    }

    [Fact]
    public void A_third_vlan_tag_is_unsupported_and_the_first_two_are_reported()
    {
        byte[] frame = FrameSurgery.WithVlanTags(
            PacketDotNetFrames.Build(TestFlows.Make(4, IpProtocol.Udp), 20), (EtherType.QinQ, 7), (EtherType.Vlan, 8), (EtherType.Vlan, 9));

        ParsedPacket packet = AssertStatus(ParseStatus.Unsupported, frame);
        Assert.Equal((2, 7, 8), (packet.VlanCount, (int)packet.OuterVlanId, (int)packet.InnerVlanId));
    }

    [Fact]
    public void A_vlan_tag_cut_short_is_truncated() =>
        AssertStatus(ParseStatus.Truncated, FrameSurgery.WithVlanTags(new byte[14], (EtherType.Vlan, 1)).AsSpan(0, 17).ToArray());

    [Theory]
    [InlineData(4, IpProtocol.Icmp)]
    [InlineData(6, IpProtocol.IcmpV6)]
    [InlineData(6, IpProtocol.IPv6NoNextHeader)]
    public void A_transport_other_than_udp_or_tcp_is_unsupported_with_its_addresses_read(int ipVersion, IpProtocol protocol)
    {
        FlowKey flow = TestFlows.Make(ipVersion, IpProtocol.Udp);
        byte[] frame = PacketDotNetFrames.Build(flow, 20);
        frame[NetworkOffset + (ipVersion == 4 ? 9 : 6)] = (byte)protocol;
        if (ipVersion == 4)
        {
            FrameSurgery.RefreshIPv4Checksum(frame, NetworkOffset);
        }

        ParsedPacket packet = AssertStatus(ParseStatus.Unsupported, frame);
        Assert.Equal(protocol, packet.Protocol);
        Assert.Equal((flow.Source, flow.Destination), (packet.Source, packet.Destination));
    }

    [Fact]
    public void Random_bytes_and_mutated_frames_never_throw_and_an_ok_payload_always_lies_inside_the_frame()
    {
        var random = new Random(1234);
        byte[][] valid = Enumerable.Range(0, 500).Select(seed => RandomFrame.FromSeed(seed).Bytes).ToArray();
        for (int i = 0; i < 20_000; i++)
        {
            byte[] frame = i % 2 == 0 ? RandomBytes(random) : Mutated(valid[i % valid.Length], random);

            ParsedPacket packet = PacketParser.Parse(frame);

            Assert.True(Enum.IsDefined(packet.Status), $"case {i}: status {packet.Status}");
            if (packet.Status == ParseStatus.Ok)
            {
                Assert.True(packet.PayloadOffset >= packet.TransportOffset && packet.PayloadOffset + packet.PayloadLength <= frame.Length, $"case {i}: {packet}");
                Assert.Equal(packet.PayloadLength, packet.PayloadOf(frame).Length);
            }
        }
    }

    private static byte[] Ipv4Udp(Action<byte[]> edit)
    {
        byte[] frame = PacketDotNetFrames.Build(TestFlows.Make(4, IpProtocol.Udp), 30);
        edit(frame);
        FrameSurgery.RefreshIPv4Checksum(frame, NetworkOffset);
        return frame;
    }

    private static ParsedPacket AssertStatus(ParseStatus expected, byte[] frame)
    {
        bool parsed = PacketParser.TryParse(frame, out ParsedPacket packet);
        Assert.Equal(expected, packet.Status);
        Assert.Equal(expected == ParseStatus.Ok, parsed);
        return packet;
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] frame = new byte[random.Next(0, 200)];
        random.NextBytes(frame);
        if (frame.Length >= 14 && random.Next(2) == 0)
        {
            // Aim half of them at the interesting branches.
            ushort[] types = [(ushort)EtherType.IPv4, (ushort)EtherType.IPv6, (ushort)EtherType.Vlan, (ushort)EtherType.QinQ];
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), types[random.Next(types.Length)]);
        }

        return frame;
    }

    private static byte[] Mutated(byte[] frame, Random random)
    {
        byte[] copy = [.. frame];
        int flips = random.Next(1, 6);
        for (int f = 0; f < flips; f++)
        {
            copy[random.Next(Math.Min(copy.Length, 80))] = (byte)random.Next(256);
        }

        return copy.AsSpan(0, random.Next(copy.Length + 1)).ToArray();
    }
}

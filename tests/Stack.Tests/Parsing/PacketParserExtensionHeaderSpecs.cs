using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>
/// IPv6 extension chains and IP fragments, against offsets computed by hand (PacketDotNet 1.4.8 cannot judge
/// chains of unequal lengths, and decodes a non-first fragment's data as if it were a transport header).
/// </summary>
public sealed class PacketParserExtensionHeaderSpecs
{
    private const int NetworkOffset = 14;

    [Fact]
    public void A_chain_of_unequal_extension_headers_is_skipped_to_the_transport_header()
    {
        FlowKey flow = TestFlows.Make(6, IpProtocol.Udp);
        byte[] frame = FrameSurgery.WithIPv6ExtensionHeaders(
            PacketDotNetFrames.Build(flow, payloadLength: 100),
            NetworkOffset,
            ExtensionHeader.HopByHop(1),
            ExtensionHeader.DestinationOptions(3),
            ExtensionHeader.Routing(2),
            ExtensionHeader.DestinationOptions(1));

        bool parsed = PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.True(parsed, $"status {packet.Status}");
        Assert.Equal(NetworkOffset + 40 + 8 + 24 + 16 + 8, packet.TransportOffset);
        Assert.Equal(IpProtocol.Udp, packet.Protocol);
        Assert.Equal(flow, packet.Flow);
        Assert.Equal(100, packet.PayloadLength);
        Assert.Equal(packet.TransportOffset + 8, packet.PayloadOffset);
        Assert.False(packet.IsFragment);
    }

    [Fact]
    public void Ethernet_padding_after_a_packet_with_extension_headers_is_not_payload()
    {
        FlowKey flow = TestFlows.Make(6, IpProtocol.Udp);
        byte[] frame = FrameSurgery.PaddedTo(
            FrameSurgery.WithIPv6ExtensionHeaders(PacketDotNetFrames.Build(flow, payloadLength: 2), NetworkOffset, ExtensionHeader.DestinationOptions(2)),
            100);

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.Equal(40 + 16 + 8 + 2, packet.IpPacketLength);
        Assert.Equal(2, packet.PayloadLength);
    }

    [Fact]
    public void An_atomic_ipv6_fragment_header_is_skipped_and_the_packet_is_not_a_fragment()
    {
        FlowKey flow = TestFlows.Make(6, IpProtocol.Tcp);
        byte[] frame = FrameSurgery.WithIPv6ExtensionHeaders(PacketDotNetFrames.Build(flow, 10), NetworkOffset, ExtensionHeader.Fragment(0, more: false));

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.False(packet.IsFragment);
        Assert.Equal(flow, packet.Flow);
        Assert.Equal(NetworkOffset + 48, packet.TransportOffset);
    }

    [Fact]
    public void A_first_ipv6_fragment_has_ports_and_its_data_is_the_rest_of_the_fragment()
    {
        FlowKey flow = TestFlows.Make(6, IpProtocol.Udp);
        byte[] frame = FrameSurgery.WithIPv6ExtensionHeaders(PacketDotNetFrames.Build(flow, 100), NetworkOffset, ExtensionHeader.Fragment(0, more: true));

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.True(packet.IsFragment);
        Assert.Equal(0, packet.FragmentOffset);
        Assert.Equal(flow, packet.Flow);
        Assert.Equal(100, packet.PayloadLength);
    }

    [Fact]
    public void A_later_ipv6_fragment_has_no_ports_and_its_whole_data_is_payload()
    {
        FlowKey flow = TestFlows.Make(6, IpProtocol.Udp);
        byte[] frame = FrameSurgery.WithIPv6ExtensionHeaders(PacketDotNetFrames.Build(flow, 100), NetworkOffset, ExtensionHeader.Fragment(1232, more: false));

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.True(packet.IsFragment);
        Assert.Equal(1232, packet.FragmentOffset);
        Assert.Equal(IpProtocol.Udp, packet.Protocol);
        Assert.Equal((0, 0), (packet.SourcePort, packet.DestinationPort));
        Assert.Equal(NetworkOffset + 48, packet.PayloadOffset);
        Assert.Equal(108, packet.PayloadLength);
    }

    [Theory]
    [InlineData(0, true, 40000, 100)]
    [InlineData(1480, true, 0, 108)]
    [InlineData(2960, false, 0, 108)]
    public void Ipv4_fragments_are_flagged_and_only_the_first_has_ports(int fragmentOffset, bool more, int expectedSourcePort, int expectedPayload)
    {
        FlowKey flow = TestFlows.Make(4, IpProtocol.Udp);
        byte[] frame = FrameSurgery.AsIPv4Fragment(PacketDotNetFrames.Build(flow, 100), NetworkOffset, fragmentOffset, more);

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.True(packet.IsFragment);
        Assert.Equal(fragmentOffset, packet.FragmentOffset);
        Assert.Equal(expectedSourcePort, packet.SourcePort);
        Assert.Equal(expectedPayload, packet.PayloadLength);
    }

    [Fact]
    public void A_first_ipv4_fragment_is_not_judged_by_a_udp_length_covering_the_whole_datagram()
    {
        FlowKey flow = TestFlows.Make(4, IpProtocol.Udp);
        byte[] frame = FrameSurgery.AsIPv4Fragment(PacketDotNetFrames.Build(flow, 100), NetworkOffset, 0, moreFragments: true);
        frame[NetworkOffset + 20 + 4] = 0x10;

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.Equal(100, packet.PayloadLength);
    }

    [Fact]
    public void A_hop_by_hop_header_after_another_extension_is_malformed()
    {
        byte[] frame = FrameSurgery.WithIPv6ExtensionHeaders(
            PacketDotNetFrames.Build(TestFlows.Make(6, IpProtocol.Udp), 10), NetworkOffset, ExtensionHeader.DestinationOptions(), ExtensionHeader.HopByHop());

        Assert.False(PacketParser.TryParse(frame, out ParsedPacket packet));
        Assert.Equal(ParseStatus.Malformed, packet.Status);
    }

    [Fact]
    public void An_extension_header_longer_than_the_packet_is_truncated()
    {
        byte[] frame = FrameSurgery.WithIPv6ExtensionHeaders(
            PacketDotNetFrames.Build(TestFlows.Make(6, IpProtocol.Udp), 10), NetworkOffset, ExtensionHeader.Routing(1));
        frame[NetworkOffset + 40 + 1] = 200;

        Assert.False(PacketParser.TryParse(frame, out ParsedPacket packet));
        Assert.Equal(ParseStatus.Truncated, packet.Status);
        Assert.Equal(6, packet.IpVersion);
    }
}

using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>The parser agrees with PacketDotNet, field by field, on the same bytes.</summary>
public sealed class PacketParserCrossCheckSpecs
{
    private static readonly int[] FrameLengths = [64, 65, 128, 576, 1500, 1514, 1518];

    public static TheoryData<FrameSource, int, IpProtocol, int, int> Shapes()
    {
        var data = new TheoryData<FrameSource, int, IpProtocol, int, int>();
        foreach (FrameSource source in Enum.GetValues<FrameSource>())
        {
            foreach (int ipVersion in new[] { 4, 6 })
            {
                foreach (IpProtocol protocol in new[] { IpProtocol.Udp, IpProtocol.Tcp })
                {
                    for (int vlanCount = 0; vlanCount <= 2; vlanCount++)
                    {
                        foreach (int frameLength in FrameLengths.Where(length => length >= TestFlows.HeaderLength(ipVersion, protocol, vlanCount)))
                        {
                            data.Add(source, ipVersion, protocol, vlanCount, frameLength);
                        }
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_field_matches_PacketDotNet_for_each_shape_and_size(FrameSource source, int ipVersion, IpProtocol protocol, int vlanCount, int frameLength)
    {
        FlowKey flow = TestFlows.Make(ipVersion, protocol);
        byte[] frame = TestFrames.Build(source, flow, vlanCount, frameLength);

        bool parsed = PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.True(parsed, $"status {packet.Status}");
        Assert.Equal(frameLength, frame.Length);
        Assert.Equal(HeaderFields.FromPacketDotNet(frame), HeaderFields.From(packet));
        Assert.Equal(flow, packet.Flow);
        Assert.Equal(frameLength - TestFlows.HeaderLength(ipVersion, protocol, vlanCount), packet.PayloadLength);
    }

    [Fact]
    public void Every_field_matches_PacketDotNet_for_two_thousand_random_frames()
    {
        for (int seed = 0; seed < 2000; seed++)
        {
            RandomFrame frame = RandomFrame.FromSeed(seed);

            bool parsed = PacketParser.TryParse(frame.Bytes, out ParsedPacket packet);

            HeaderFields expected = HeaderFields.FromPacketDotNet(frame.Bytes);
            HeaderFields actual = HeaderFields.From(packet);
            Assert.True(parsed, $"{frame}: status {packet.Status}");
            Assert.True(expected == actual, $"{frame}\nPacketDotNet: {expected}\nparser:       {actual}");
        }
    }

    [Theory]
    [InlineData(4, IpProtocol.Udp)]
    [InlineData(4, IpProtocol.Tcp)]
    [InlineData(6, IpProtocol.Udp)]
    public void Ethernet_padding_after_a_short_packet_is_not_payload(int ipVersion, IpProtocol protocol)
    {
        FlowKey flow = TestFlows.Make(ipVersion, protocol);
        byte[] frame = FrameSurgery.PaddedTo(PacketDotNetFrames.Build(flow, payloadLength: 1), 60);

        PacketParser.TryParse(frame, out ParsedPacket packet);

        Assert.Equal(HeaderFields.FromPacketDotNet(frame), HeaderFields.From(packet));
        Assert.Equal(1, packet.PayloadLength);
        Assert.Equal(TestFlows.HeaderLength(ipVersion, protocol, 0) + 1, 14 + packet.IpPacketLength);
    }

    [Fact]
    public void The_payload_span_holds_the_bytes_the_builder_wrote()
    {
        FlowKey flow = TestFlows.Make(6, IpProtocol.Tcp);
        byte[] frame = TestFrames.Build(FrameSource.FrameBuilder, flow, vlanCount: 2, frameLength: 300, payloadSeed: 42);

        PacketParser.TryParse(frame, out ParsedPacket packet);

        byte[] expected = Enumerable.Range(0, 300 - TestFlows.HeaderLength(6, IpProtocol.Tcp, 2)).Select(i => (byte)(42 + i)).ToArray();
        Assert.Equal(expected, packet.PayloadOf(frame).ToArray());
    }
}

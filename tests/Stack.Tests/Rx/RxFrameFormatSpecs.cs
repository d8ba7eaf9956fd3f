using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Xunit;
using static Netmem.Stack.Tests.Actors.StackActorFixture;

namespace Netmem.Stack.Tests.Rx;

public sealed class RxFrameFormatSpecs
{
    private static readonly FlowKey Tcp = new(IpAddress.FromIPv4(0x0A00_0001), IpAddress.FromIPv4(0x0A00_0002), 1111, 80, IpProtocol.Tcp);

    [Fact]
    public void A_batch_or_a_batch_pool_that_is_told_nothing_holds_ethernet_frames()
    {
        Assert.True(RxFrameFormat.Ethernet.IsEthernet);
        Assert.Null(RxFrameFormat.Ethernet.PayloadFlow);
        Assert.Same(RxFrameFormat.Ethernet, new RxBatch("eth0", 0, []).Format);
        Assert.Same(RxFrameFormat.Ethernet, new RxBatchPool("eth0", 0).Format);
    }

    [Fact]
    public void Every_batch_rented_from_a_pool_carries_the_pool_s_format()
    {
        RxFrameFormat udp = RxFrameFormat.UdpPayloads(Bound);
        var batches = new RxBatchPool("udp0", 0) { Format = udp };

        RxBatch batch = Rent(batches);

        Assert.Same(udp, batch.Format);
        Assert.False(udp.IsEthernet);
        Assert.Equal(Bound, udp.PayloadFlow);
        Assert.Equal("UDP payloads of Udp 10.0.0.1:1111 -> 10.0.0.2:5000", udp.ToString());
    }

    [Fact]
    public void A_batch_or_a_batch_pool_without_a_frame_format_is_refused_in_words()
    {
        ArgumentNullException batch = Assert.Throws<ArgumentNullException>(() => new RxBatch("eth0", 0, [], null!));
        ArgumentNullException pool = Assert.Throws<ArgumentNullException>(() => new RxBatchPool("eth0", 0) { Format = null! });

        Assert.StartsWith("A batch needs the frame format of its device: Ethernet frames, or the UDP payloads of a flow.", batch.Message, StringComparison.Ordinal);
        Assert.StartsWith("A batch pool needs the frame format of its queue's device: Ethernet frames, or the UDP payloads of a flow.", pool.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Udp_payloads_of_a_flow_that_is_not_udp_are_refused_in_words()
    {
        ArgumentException refused = Assert.Throws<ArgumentException>(() => RxFrameFormat.UdpPayloads(Tcp));

        Assert.StartsWith("Frames of UDP payloads belong to a UDP flow; Tcp 10.0.0.1:1111 -> 10.0.0.2:80 is not one.", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_udp_payload_is_described_as_a_parsed_packet_of_the_declared_flow_whose_payload_is_the_whole_frame()
    {
        ParsedPacket packet = RxFrameFormat.UdpPayloads(Bound).DescribePayload(321);

        Assert.Equal(ParseStatus.Ok, packet.Status);
        Assert.Equal(Bound, packet.Flow);
        Assert.Equal((4, 0, 321), (packet.IpVersion, packet.PayloadOffset, packet.PayloadLength));
    }
}

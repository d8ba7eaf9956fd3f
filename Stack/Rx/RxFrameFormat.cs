using Netmem.Stack.Parsing;

namespace Netmem.Stack.Rx;

/// <summary>
/// What the frames of an RX queue hold, as the device that writes them declares it: whole Ethernet frames (a NIC, an
/// AF_PACKET socket), which the stack parses, or the payloads of the UDP datagrams of one flow (a UDP socket, which
/// strips every header before it hands a datagram over), which the stack cannot parse and does not need to.
/// </summary>
/// <remarks>
/// The format travels with every <see cref="RxBatch"/>, so the stack chooses how to read a batch once, not per
/// frame. For UDP payloads the stack describes each frame as a packet of the declared flow whose payload is the whole
/// frame: status <see cref="ParseStatus.Ok"/>, the flow's addresses, ports and protocol, payload offset 0 and length
/// the frame's, and no header fields (MAC addresses, VLAN tags, hop limit, header offsets, IP length are 0), because
/// no header reached the page.
/// </remarks>
public sealed class RxFrameFormat
{
    private readonly ParsedPacket _payloadPacket;

    private RxFrameFormat(FlowKey? payloadFlow)
    {
        PayloadFlow = payloadFlow;
        if (payloadFlow is { } flow)
        {
            _payloadPacket = new ParsedPacket
            {
                Status = ParseStatus.Ok,
                EtherType = flow.IsIPv4 ? EtherType.IPv4 : EtherType.IPv6,
                IpVersion = flow.IsIPv4 ? 4 : 6,
                Source = flow.Source,
                Destination = flow.Destination,
                Protocol = flow.Protocol,
                SourcePort = flow.SourcePort,
                DestinationPort = flow.DestinationPort,
            };
        }
    }

    /// <summary>Whole Ethernet frames, parsed by the stack (<see cref="PacketParser"/>): what a NIC writes. The default.</summary>
    public static RxFrameFormat Ethernet { get; } = new(null);

    /// <summary>True for <see cref="Ethernet"/>; false for <see cref="UdpPayloads"/>.</summary>
    public bool IsEthernet => PayloadFlow is null;

    /// <summary>The flow every frame is a UDP payload of; null for <see cref="Ethernet"/>.</summary>
    public FlowKey? PayloadFlow { get; }

    /// <summary>
    /// Each frame is the payload of one UDP datagram of <paramref name="flow"/>, with no header before it: what a UDP
    /// socket hands over. A socket does not say who sent each datagram, so a device that cannot tell names the sender
    /// as it likes (an unspecified address and port 0, say) and consumers bind that flow.
    /// </summary>
    /// <exception cref="ArgumentException">The flow is not a UDP flow.</exception>
    public static RxFrameFormat UdpPayloads(FlowKey flow)
    {
        if (flow.Protocol != IpProtocol.Udp)
        {
            throw new ArgumentException($"Frames of UDP payloads belong to a UDP flow; {flow} is not one.", nameof(flow));
        }

        return new RxFrameFormat(flow);
    }

    /// <summary>The format for logs: "Ethernet frames", or "UDP payloads of" and the flow.</summary>
    public override string ToString() => PayloadFlow is { } flow ? $"UDP payloads of {flow}" : "Ethernet frames";

    /// <summary>The packet the stack hands a socket for a UDP payload of <paramref name="length"/> bytes (see the remarks).</summary>
    internal ParsedPacket DescribePayload(int length) => _payloadPacket with { PayloadLength = length };
}

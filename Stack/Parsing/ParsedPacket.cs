using System.Runtime.InteropServices;

namespace Netmem.Stack.Parsing;

/// <summary>
/// What <see cref="PacketParser"/> read from one frame: plain values only (no references), so producing one
/// allocates nothing. Offsets are from the start of the frame.
/// </summary>
/// <remarks>
/// <para>When <see cref="Status"/> is not <see cref="ParseStatus.Ok"/>, the layers before the failing one are filled in and
/// the rest keep their defaults. A non-first IP fragment has no transport header: its ports are 0 and its payload is
/// the fragment's data.</para>
/// <para>Auto layout lets the runtime pack the fields (96 bytes instead of 120 in declaration order), which
/// every copy and every queued <c>ReceivedPacket</c> pays for.</para>
/// </remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct ParsedPacket
{
    /// <summary>How far parsing got: <see cref="ParseStatus.Ok"/> when every header was read; the other fields are filled up to the layer that failed.</summary>
    public ParseStatus Status { get; init; }

    /// <summary>The Ethernet destination address.</summary>
    public MacAddress DestinationMac { get; init; }

    /// <summary>The Ethernet source address.</summary>
    public MacAddress SourceMac { get; init; }

    /// <summary>The EtherType after any VLAN tags: the network protocol.</summary>
    public EtherType EtherType { get; init; }

    /// <summary>0, 1 or 2 VLAN tags were read.</summary>
    public int VlanCount { get; init; }

    /// <summary>The first tag's VLAN id (the service tag of a QinQ frame); meaningful when <see cref="VlanCount"/> ≥ 1.</summary>
    public ushort OuterVlanId { get; init; }

    /// <summary>The second tag's VLAN id (the customer tag); meaningful when <see cref="VlanCount"/> is 2.</summary>
    public ushort InnerVlanId { get; init; }

    /// <summary>Where the IP header starts.</summary>
    public int NetworkOffset { get; init; }

    /// <summary>4, 6, or 0 when no IP header was read.</summary>
    public int IpVersion { get; init; }

    /// <summary>The IP sender (IPv4 addresses IPv4-mapped).</summary>
    public IpAddress Source { get; init; }

    /// <summary>The IP receiver (IPv4 addresses IPv4-mapped).</summary>
    public IpAddress Destination { get; init; }

    /// <summary>The transport protocol: IPv4's protocol field, or the IPv6 next header after the extension headers.</summary>
    public IpProtocol Protocol { get; init; }

    /// <summary>IPv4 TTL or IPv6 hop limit.</summary>
    public byte HopLimit { get; init; }

    /// <summary>The IP packet's length, header included, as its header states it (Ethernet padding excluded).</summary>
    public int IpPacketLength { get; init; }

    /// <summary>The packet is an IP fragment (more-fragments set or a non-zero offset).</summary>
    public bool IsFragment { get; init; }

    /// <summary>The fragment's offset in bytes in the original datagram.</summary>
    public int FragmentOffset { get; init; }

    /// <summary>Where the transport header starts (after IPv4 options or IPv6 extension headers).</summary>
    public int TransportOffset { get; init; }

    /// <summary>The UDP/TCP source port; 0 for a non-first fragment or a protocol without ports.</summary>
    public ushort SourcePort { get; init; }

    /// <summary>The UDP/TCP destination port; 0 for a non-first fragment or a protocol without ports.</summary>
    public ushort DestinationPort { get; init; }

    /// <summary>The TCP flags byte (CWR..FIN); 0 for UDP.</summary>
    public byte TcpFlags { get; init; }

    /// <summary>Where the transport payload (or a non-first fragment's data) starts.</summary>
    public int PayloadOffset { get; init; }

    /// <summary>Bytes of transport payload (for UDP, as its length field states, so Ethernet padding is excluded).</summary>
    public int PayloadLength { get; init; }

    /// <summary>The packet's 5-tuple; meaningful when <see cref="Status"/> is <see cref="ParseStatus.Ok"/>.</summary>
    public FlowKey Flow => new(Source, Destination, SourcePort, DestinationPort, Protocol);

    /// <summary>The payload inside <paramref name="frame"/>, the same bytes this packet was parsed from.</summary>
    public ReadOnlySpan<byte> PayloadOf(ReadOnlySpan<byte> frame) => frame.Slice(PayloadOffset, PayloadLength);

    /// <summary>The packet for logs: flow, payload size and place, VLANs and fragment offset; or the status and the layers read when parsing failed.</summary>
    public override string ToString() =>
        Status == ParseStatus.Ok
            ? $"{Flow} payload {PayloadLength}B at {PayloadOffset}{(VlanCount > 0 ? $" vlan {OuterVlanId}" : string.Empty)}{(VlanCount > 1 ? $"/{InnerVlanId}" : string.Empty)}{(IsFragment ? $" fragment@{FragmentOffset}" : string.Empty)}"
            : $"{Status} ({EtherType}, IPv{IpVersion}, {Protocol})";
}

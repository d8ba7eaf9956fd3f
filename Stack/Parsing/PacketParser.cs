using System.Buffers.Binary;

namespace Netmem.Stack.Parsing;

/// <summary>
/// Reads Ethernet II, up to two VLAN tags, IPv4 or IPv6 (with hop-by-hop, routing, destination-options and
/// fragment extension headers), then UDP or TCP, from a frame in place. It allocates nothing and never throws on
/// frame content: a short, odd or inconsistent frame gets a <see cref="ParseStatus"/> instead.
/// </summary>
/// <remarks>
/// <para>Lengths are trusted in order of authority: the frame bounds the IP packet, the IP length bounds the
/// transport segment (so Ethernet padding after a short packet is ignored), and the UDP length bounds the UDP
/// payload. A header that claims more than its container holds is <see cref="ParseStatus.Truncated"/> when the
/// container is the frame or the IP packet, and <see cref="ParseStatus.Malformed"/> when it contradicts a length
/// field.</para>
/// <para>The layers fill one mutable <see cref="Layers"/> on the stack, and the result is built from it once: a
/// <see cref="ParsedPacket"/> is about a hundred bytes, and copying it per layer cost more than the parsing.</para>
/// </remarks>
public static class PacketParser
{
    /// <summary>Bytes of an Ethernet II header: two MAC addresses and the EtherType.</summary>
    public const int EthernetHeaderLength = 14;
    /// <summary>Bytes one 802.1Q/802.1ad tag adds to the Ethernet header.</summary>
    public const int VlanTagLength = 4;
    /// <summary>Bytes of an IPv4 header without options; a smaller IHL is malformed.</summary>
    public const int IPv4MinHeaderLength = 20;
    /// <summary>Bytes of the fixed IPv6 header, before any extension header.</summary>
    public const int IPv6HeaderLength = 40;
    /// <summary>Bytes of a UDP header.</summary>
    public const int UdpHeaderLength = 8;
    /// <summary>Bytes of a TCP header without options; a smaller data offset is malformed.</summary>
    public const int TcpMinHeaderLength = 20;
    /// <summary>The most VLAN tags the parser reads; a frame with more is <see cref="ParseStatus.Unsupported"/>.</summary>
    public const int MaxVlanTags = 2;

    private const int IPv6ExtensionUnit = 8;

    /// <summary>Parses <paramref name="frame"/>; true when every header was read (<see cref="ParseStatus.Ok"/>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out ParsedPacket packet)
    {
        packet = Parse(frame);
        return packet.Status == ParseStatus.Ok;
    }

    /// <summary>Parses <paramref name="frame"/>; the result's <see cref="ParsedPacket.Status"/> says how far it got.</summary>
    public static ParsedPacket Parse(ReadOnlySpan<byte> frame)
    {
        Layers layers = default;
        ParseStatus status = ParseEthernet(frame, ref layers);
        return layers.ToPacket(status);
    }

    private static ParseStatus ParseEthernet(ReadOnlySpan<byte> frame, ref Layers layers)
    {
        if (frame.Length < EthernetHeaderLength)
        {
            return ParseStatus.Truncated;
        }

        layers.DestinationMac = MacAddress.Read(frame);
        layers.SourceMac = MacAddress.Read(frame[6..]);
        int offset = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        offset += 2;
        while (type is (ushort)EtherType.Vlan or (ushort)EtherType.QinQ)
        {
            layers.EtherType = (EtherType)type;
            if (layers.VlanCount == MaxVlanTags)
            {
                return ParseStatus.Unsupported;
            }

            if (frame.Length - offset < VlanTagLength)
            {
                return ParseStatus.Truncated;
            }

            ushort vlanId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]) & 0x0FFF);
            if (layers.VlanCount == 0)
            {
                layers.OuterVlanId = vlanId;
            }
            else
            {
                layers.InnerVlanId = vlanId;
            }

            layers.VlanCount++;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
            offset += VlanTagLength;
        }

        layers.EtherType = (EtherType)type;
        layers.NetworkOffset = offset;
        return (EtherType)type switch
        {
            EtherType.IPv4 => ParseIPv4(frame, ref layers),
            EtherType.IPv6 => ParseIPv6(frame, ref layers),
            _ => ParseStatus.Unsupported,
        };
    }

    private static ParseStatus ParseIPv4(ReadOnlySpan<byte> frame, ref Layers layers)
    {
        int offset = layers.NetworkOffset;
        ReadOnlySpan<byte> ip = frame[offset..];
        if (ip.Length < IPv4MinHeaderLength)
        {
            return ParseStatus.Truncated;
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        if (ip[0] >> 4 != 4 || headerLength < IPv4MinHeaderLength)
        {
            return ParseStatus.Malformed;
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength < headerLength)
        {
            return ParseStatus.Malformed;
        }

        if (ip.Length < headerLength || ip.Length < totalLength)
        {
            return ParseStatus.Truncated;
        }

        ushort flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        layers.IpVersion = 4;
        layers.HopLimit = ip[8];
        layers.Protocol = (IpProtocol)ip[9];
        layers.Source = IpAddress.ReadIPv4(ip[12..]);
        layers.Destination = IpAddress.ReadIPv4(ip[16..]);
        layers.IpPacketLength = totalLength;
        layers.FragmentOffset = (flagsAndOffset & 0x1FFF) * 8;
        layers.IsFragment = (flagsAndOffset & 0x2000) != 0 || layers.FragmentOffset != 0;
        layers.TransportOffset = offset + headerLength;
        return ParseTransport(frame[..(offset + totalLength)], ref layers);
    }

    private static ParseStatus ParseIPv6(ReadOnlySpan<byte> frame, ref Layers layers)
    {
        int offset = layers.NetworkOffset;
        ReadOnlySpan<byte> ip = frame[offset..];
        if (ip.Length < IPv6HeaderLength)
        {
            return ParseStatus.Truncated;
        }

        if (ip[0] >> 4 != 6)
        {
            return ParseStatus.Malformed;
        }

        int totalLength = IPv6HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (ip.Length < totalLength)
        {
            return ParseStatus.Truncated;
        }

        layers.IpVersion = 6;
        layers.HopLimit = ip[7];
        layers.Source = IpAddress.ReadIPv6(ip[8..]);
        layers.Destination = IpAddress.ReadIPv6(ip[24..]);
        layers.IpPacketLength = totalLength;

        // Walk the extension-header chain. Every step consumes at least 8 bytes of a packet of at most 64 KiB, so
        // the walk is bounded without a separate hop limit.
        ip = ip[..totalLength];
        var next = (IpProtocol)ip[6];
        int cursor = IPv6HeaderLength;
        while (next is IpProtocol.IPv6HopByHop or IpProtocol.IPv6Routing or IpProtocol.IPv6DestinationOptions or IpProtocol.IPv6Fragment)
        {
            layers.Protocol = next;
            if (next == IpProtocol.IPv6HopByHop && cursor != IPv6HeaderLength)
            {
                return ParseStatus.Malformed;
            }

            if (ip.Length - cursor < IPv6ExtensionUnit)
            {
                return ParseStatus.Truncated;
            }

            int extensionLength;
            if (next == IpProtocol.IPv6Fragment)
            {
                ushort offsetAndFlags = BinaryPrimitives.ReadUInt16BigEndian(ip[(cursor + 2)..]);
                layers.FragmentOffset = offsetAndFlags & 0xFFF8;
                layers.IsFragment = layers.FragmentOffset != 0 || (offsetAndFlags & 1) != 0;
                extensionLength = IPv6ExtensionUnit;
            }
            else
            {
                extensionLength = (ip[cursor + 1] + 1) * IPv6ExtensionUnit;
                if (ip.Length - cursor < extensionLength)
                {
                    return ParseStatus.Truncated;
                }
            }

            next = (IpProtocol)ip[cursor];
            cursor += extensionLength;
        }

        layers.Protocol = next;
        layers.TransportOffset = offset + cursor;
        return ParseTransport(frame[..(offset + totalLength)], ref layers);
    }

    /// <param name="ipBounded">The frame cut at the end of the IP packet.</param>
    /// <param name="layers">What the parse found so far; the transport layer is added to it.</param>
    private static ParseStatus ParseTransport(ReadOnlySpan<byte> ipBounded, ref Layers layers)
    {
        int start = layers.TransportOffset;
        ReadOnlySpan<byte> segment = ipBounded[start..];
        if (layers.FragmentOffset != 0)
        {
            layers.PayloadOffset = start;
            layers.PayloadLength = segment.Length;
            return ParseStatus.Ok;
        }

        switch (layers.Protocol)
        {
            case IpProtocol.Udp:
            {
                if (segment.Length < UdpHeaderLength)
                {
                    return ParseStatus.Truncated;
                }

                int udpLength = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
                int payloadLength = segment.Length - UdpHeaderLength;

                // The first fragment of a datagram carries a UDP length covering every fragment; only an
                // unfragmented datagram can be checked against it.
                if (!layers.IsFragment)
                {
                    if (udpLength < UdpHeaderLength || udpLength > segment.Length)
                    {
                        return ParseStatus.Malformed;
                    }

                    payloadLength = udpLength - UdpHeaderLength;
                }

                layers.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
                layers.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
                layers.PayloadOffset = start + UdpHeaderLength;
                layers.PayloadLength = payloadLength;
                return ParseStatus.Ok;
            }

            case IpProtocol.Tcp:
            {
                if (segment.Length < TcpMinHeaderLength)
                {
                    return ParseStatus.Truncated;
                }

                int headerLength = (segment[12] >> 4) * 4;
                if (headerLength < TcpMinHeaderLength)
                {
                    return ParseStatus.Malformed;
                }

                if (headerLength > segment.Length)
                {
                    return ParseStatus.Truncated;
                }

                layers.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
                layers.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
                layers.TcpFlags = segment[13];
                layers.PayloadOffset = start + headerLength;
                layers.PayloadLength = segment.Length - headerLength;
                return ParseStatus.Ok;
            }

            default:
                layers.PayloadOffset = start;
                layers.PayloadLength = segment.Length;
                return ParseStatus.Unsupported;
        }
    }

    /// <summary>The parser's scratch copy of <see cref="ParsedPacket"/>'s fields, filled layer by layer.</summary>
    private struct Layers
    {
        public MacAddress DestinationMac;
        public MacAddress SourceMac;
        public EtherType EtherType;
        public int VlanCount;
        public ushort OuterVlanId;
        public ushort InnerVlanId;
        public int NetworkOffset;
        public int IpVersion;
        public IpAddress Source;
        public IpAddress Destination;
        public IpProtocol Protocol;
        public byte HopLimit;
        public int IpPacketLength;
        public bool IsFragment;
        public int FragmentOffset;
        public int TransportOffset;
        public ushort SourcePort;
        public ushort DestinationPort;
        public byte TcpFlags;
        public int PayloadOffset;
        public int PayloadLength;

        public readonly ParsedPacket ToPacket(ParseStatus status) => new()
        {
            Status = status,
            DestinationMac = DestinationMac,
            SourceMac = SourceMac,
            EtherType = EtherType,
            VlanCount = VlanCount,
            OuterVlanId = OuterVlanId,
            InnerVlanId = InnerVlanId,
            NetworkOffset = NetworkOffset,
            IpVersion = IpVersion,
            Source = Source,
            Destination = Destination,
            Protocol = Protocol,
            HopLimit = HopLimit,
            IpPacketLength = IpPacketLength,
            IsFragment = IsFragment,
            FragmentOffset = FragmentOffset,
            TransportOffset = TransportOffset,
            SourcePort = SourcePort,
            DestinationPort = DestinationPort,
            TcpFlags = TcpFlags,
            PayloadOffset = PayloadOffset,
            PayloadLength = PayloadLength,
        };
    }
}

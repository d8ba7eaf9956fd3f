using System.Buffers.Binary;

namespace Netmem.Stack.Parsing;

/// <summary>
/// Reads Ethernet II, up to two VLAN tags, IPv4 or IPv6 (with hop-by-hop, routing, destination-options and
/// fragment extension headers), then UDP or TCP, from a frame in place. It allocates nothing and never throws on
/// frame content: a short, odd or inconsistent frame gets a <see cref="ParseStatus"/> instead.
/// </summary>
/// <remarks>
/// Lengths are trusted in order of authority: the frame bounds the IP packet, the IP length bounds the transport
/// segment (so Ethernet padding after a short packet is ignored), and the UDP length bounds the UDP payload. A
/// header that claims more than its container holds is <see cref="ParseStatus.Truncated"/> when the container is
/// the frame or the IP packet, and <see cref="ParseStatus.Malformed"/> when it contradicts a length field.
/// </remarks>
public static class PacketParser
{
    public const int EthernetHeaderLength = 14;
    public const int VlanTagLength = 4;
    public const int IPv4MinHeaderLength = 20;
    public const int IPv6HeaderLength = 40;
    public const int UdpHeaderLength = 8;
    public const int TcpMinHeaderLength = 20;
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
        if (frame.Length < EthernetHeaderLength)
        {
            return new ParsedPacket { Status = ParseStatus.Truncated };
        }

        var packet = new ParsedPacket { DestinationMac = MacAddress.Read(frame), SourceMac = MacAddress.Read(frame[6..]) };
        int offset = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        offset += 2;
        int vlanCount = 0;
        ushort outerVlan = 0;
        ushort innerVlan = 0;
        while (type is (ushort)EtherType.Vlan or (ushort)EtherType.QinQ)
        {
            if (vlanCount == MaxVlanTags)
            {
                return packet with { Status = ParseStatus.Unsupported, EtherType = (EtherType)type, VlanCount = vlanCount, OuterVlanId = outerVlan, InnerVlanId = innerVlan };
            }

            if (frame.Length - offset < VlanTagLength)
            {
                return packet with { Status = ParseStatus.Truncated, EtherType = (EtherType)type, VlanCount = vlanCount, OuterVlanId = outerVlan, InnerVlanId = innerVlan };
            }

            ushort vlanId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]) & 0x0FFF);
            if (vlanCount == 0)
            {
                outerVlan = vlanId;
            }
            else
            {
                innerVlan = vlanId;
            }

            vlanCount++;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[(offset + 2)..]);
            offset += VlanTagLength;
        }

        packet = packet with { EtherType = (EtherType)type, VlanCount = vlanCount, OuterVlanId = outerVlan, InnerVlanId = innerVlan, NetworkOffset = offset };
        return (EtherType)type switch
        {
            EtherType.IPv4 => ParseIPv4(frame, offset, packet),
            EtherType.IPv6 => ParseIPv6(frame, offset, packet),
            _ => packet with { Status = ParseStatus.Unsupported },
        };
    }

    private static ParsedPacket ParseIPv4(ReadOnlySpan<byte> frame, int offset, in ParsedPacket packet)
    {
        ReadOnlySpan<byte> ip = frame[offset..];
        if (ip.Length < IPv4MinHeaderLength)
        {
            return packet with { Status = ParseStatus.Truncated };
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        if (ip[0] >> 4 != 4 || headerLength < IPv4MinHeaderLength)
        {
            return packet with { Status = ParseStatus.Malformed };
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength < headerLength)
        {
            return packet with { Status = ParseStatus.Malformed };
        }

        if (ip.Length < headerLength || ip.Length < totalLength)
        {
            return packet with { Status = ParseStatus.Truncated };
        }

        ushort flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        bool moreFragments = (flagsAndOffset & 0x2000) != 0;
        int fragmentOffset = (flagsAndOffset & 0x1FFF) * 8;
        ParsedPacket withIp = packet with
        {
            IpVersion = 4,
            HopLimit = ip[8],
            Protocol = (IpProtocol)ip[9],
            Source = IpAddress.ReadIPv4(ip[12..]),
            Destination = IpAddress.ReadIPv4(ip[16..]),
            IpPacketLength = totalLength,
            IsFragment = moreFragments || fragmentOffset != 0,
            FragmentOffset = fragmentOffset,
            TransportOffset = offset + headerLength,
        };
        return ParseTransport(frame[..(offset + totalLength)], withIp);
    }

    private static ParsedPacket ParseIPv6(ReadOnlySpan<byte> frame, int offset, in ParsedPacket packet)
    {
        ReadOnlySpan<byte> ip = frame[offset..];
        if (ip.Length < IPv6HeaderLength)
        {
            return packet with { Status = ParseStatus.Truncated };
        }

        if (ip[0] >> 4 != 6)
        {
            return packet with { Status = ParseStatus.Malformed };
        }

        int totalLength = IPv6HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (ip.Length < totalLength)
        {
            return packet with { Status = ParseStatus.Truncated };
        }

        ParsedPacket withIp = packet with
        {
            IpVersion = 6,
            HopLimit = ip[7],
            Source = IpAddress.ReadIPv6(ip[8..]),
            Destination = IpAddress.ReadIPv6(ip[24..]),
            IpPacketLength = totalLength,
        };

        // Walk the extension-header chain. Every step consumes at least 8 bytes of a packet of at most 64 KiB, so
        // the walk is bounded without a separate hop limit.
        ip = ip[..totalLength];
        var next = (IpProtocol)ip[6];
        int cursor = IPv6HeaderLength;
        bool isFragment = false;
        int fragmentOffset = 0;
        while (next is IpProtocol.IPv6HopByHop or IpProtocol.IPv6Routing or IpProtocol.IPv6DestinationOptions or IpProtocol.IPv6Fragment)
        {
            if (next == IpProtocol.IPv6HopByHop && cursor != IPv6HeaderLength)
            {
                return withIp with { Status = ParseStatus.Malformed, Protocol = next };
            }

            if (ip.Length - cursor < IPv6ExtensionUnit)
            {
                return withIp with { Status = ParseStatus.Truncated, Protocol = next };
            }

            int extensionLength;
            if (next == IpProtocol.IPv6Fragment)
            {
                ushort offsetAndFlags = BinaryPrimitives.ReadUInt16BigEndian(ip[(cursor + 2)..]);
                fragmentOffset = offsetAndFlags & 0xFFF8;
                isFragment = fragmentOffset != 0 || (offsetAndFlags & 1) != 0;
                extensionLength = IPv6ExtensionUnit;
            }
            else
            {
                extensionLength = (ip[cursor + 1] + 1) * IPv6ExtensionUnit;
                if (ip.Length - cursor < extensionLength)
                {
                    return withIp with { Status = ParseStatus.Truncated, Protocol = next };
                }
            }

            next = (IpProtocol)ip[cursor];
            cursor += extensionLength;
        }

        withIp = withIp with { Protocol = next, IsFragment = isFragment, FragmentOffset = fragmentOffset, TransportOffset = offset + cursor };
        return ParseTransport(frame[..(offset + totalLength)], withIp);
    }

    /// <param name="ipBounded">The frame cut at the end of the IP packet.</param>
    private static ParsedPacket ParseTransport(ReadOnlySpan<byte> ipBounded, in ParsedPacket packet)
    {
        int start = packet.TransportOffset;
        ReadOnlySpan<byte> segment = ipBounded[start..];
        if (packet.FragmentOffset != 0)
        {
            return packet with { Status = ParseStatus.Ok, PayloadOffset = start, PayloadLength = segment.Length };
        }

        switch (packet.Protocol)
        {
            case IpProtocol.Udp:
            {
                if (segment.Length < UdpHeaderLength)
                {
                    return packet with { Status = ParseStatus.Truncated };
                }

                int udpLength = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
                int payloadLength = segment.Length - UdpHeaderLength;

                // The first fragment of a datagram carries a UDP length covering every fragment; only an
                // unfragmented datagram can be checked against it.
                if (!packet.IsFragment)
                {
                    if (udpLength < UdpHeaderLength || udpLength > segment.Length)
                    {
                        return packet with { Status = ParseStatus.Malformed };
                    }

                    payloadLength = udpLength - UdpHeaderLength;
                }

                return packet with
                {
                    Status = ParseStatus.Ok,
                    SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment),
                    DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]),
                    PayloadOffset = start + UdpHeaderLength,
                    PayloadLength = payloadLength,
                };
            }

            case IpProtocol.Tcp:
            {
                if (segment.Length < TcpMinHeaderLength)
                {
                    return packet with { Status = ParseStatus.Truncated };
                }

                int headerLength = (segment[12] >> 4) * 4;
                if (headerLength < TcpMinHeaderLength)
                {
                    return packet with { Status = ParseStatus.Malformed };
                }

                if (headerLength > segment.Length)
                {
                    return packet with { Status = ParseStatus.Truncated };
                }

                return packet with
                {
                    Status = ParseStatus.Ok,
                    SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment),
                    DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]),
                    TcpFlags = segment[13],
                    PayloadOffset = start + headerLength,
                    PayloadLength = segment.Length - headerLength,
                };
            }

            default:
                return packet with { Status = ParseStatus.Unsupported, PayloadOffset = start, PayloadLength = segment.Length };
        }
    }
}

using System.Net;
using System.Net.NetworkInformation;
using Netmem.Stack.Parsing;
using PacketDotNet;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>
/// The fields both parsers report, as one comparable record, so a cross-check is one equality whose failure message
/// shows every field of both sides.
/// </summary>
public sealed record HeaderFields(
    ulong DestinationMac,
    ulong SourceMac,
    ushort EtherType,
    string VlanIds,
    int NetworkOffset,
    int IpVersion,
    string Source,
    string Destination,
    int Protocol,
    int HopLimit,
    int IpPacketLength,
    int TransportOffset,
    int SourcePort,
    int DestinationPort,
    int TcpFlags,
    int PayloadOffset,
    int PayloadLength)
{
    public static HeaderFields From(ParsedPacket packet) => new(
        packet.DestinationMac.Value,
        packet.SourceMac.Value,
        (ushort)packet.EtherType,
        VlanText(packet.VlanCount switch
        {
            0 => [],
            1 => [packet.OuterVlanId],
            _ => [packet.OuterVlanId, packet.InnerVlanId],
        }),
        packet.NetworkOffset,
        packet.IpVersion,
        packet.Source.ToString(),
        packet.Destination.ToString(),
        (int)packet.Protocol,
        packet.HopLimit,
        packet.IpPacketLength,
        packet.TransportOffset,
        packet.SourcePort,
        packet.DestinationPort,
        packet.TcpFlags,
        packet.PayloadOffset,
        packet.PayloadLength);

    /// <summary>What PacketDotNet decodes from the same bytes: the independent opinion.</summary>
    public static HeaderFields FromPacketDotNet(byte[] frame)
    {
        var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var vlanIds = new List<ushort>();
        ushort etherType = (ushort)ethernet.Type;
        Packet? current = ethernet.PayloadPacket;
        while (current is Ieee8021QPacket tag)
        {
            vlanIds.Add(tag.VlanIdentifier);
            etherType = (ushort)tag.Type;
            current = tag.PayloadPacket;
        }

        var ip = (IPPacket)current!;
        Packet transport = ip.PayloadPacket;
        (int sourcePort, int destinationPort, int flags) = transport switch
        {
            UdpPacket udp => (udp.SourcePort, udp.DestinationPort, 0),
            TcpPacket tcp => (tcp.SourcePort, tcp.DestinationPort, tcp.Flags & 0xFF),
            _ => throw new InvalidOperationException($"PacketDotNet found no UDP/TCP in {ip}"),
        };
        int ipPacketLength = ip is IPv6Packet v6 ? PacketParser.IPv6HeaderLength + v6.PayloadLength : ip.TotalLength;

        return new HeaderFields(
            MacOf(ethernet.DestinationHardwareAddress),
            MacOf(ethernet.SourceHardwareAddress),
            etherType,
            VlanText(vlanIds),
            ip.HeaderSegment.Offset,
            ip.Version == IPVersion.IPv4 ? 4 : 6,
            Mapped(ip.SourceAddress),
            Mapped(ip.DestinationAddress),
            (int)ip.Protocol,
            ip.TimeToLive,
            ipPacketLength,
            transport.HeaderSegment.Offset,
            sourcePort,
            destinationPort,
            flags,
            transport.PayloadDataSegment.Offset,
            transport.PayloadDataSegment.Length);
    }

    private static ulong MacOf(PhysicalAddress address) =>
        address.GetAddressBytes().Aggregate(0UL, (value, b) => (value << 8) | b);

    private static string Mapped(IPAddress address) => IpAddress.From(address).ToString();

    private static string VlanText(IEnumerable<ushort> ids) => string.Join('/', ids);
}

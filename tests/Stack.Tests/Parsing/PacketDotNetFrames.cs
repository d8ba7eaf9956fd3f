using System.Net.NetworkInformation;
using Netmem.Stack.Parsing;
using PacketDotNet;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>Frames built by PacketDotNet, independently of <see cref="FrameBuilder"/>: untagged, checksums filled.</summary>
public static class PacketDotNetFrames
{
    public static byte[] Build(FlowKey flow, int payloadLength, byte hopLimit = 64, byte tcpFlags = 0x18, byte payloadSeed = 0)
    {
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(payloadSeed + i);
        }

        Packet transport;
        if (flow.Protocol == IpProtocol.Udp)
        {
            transport = new UdpPacket(flow.SourcePort, flow.DestinationPort) { PayloadData = payload };
        }
        else
        {
            transport = new TcpPacket(flow.SourcePort, flow.DestinationPort)
            {
                PayloadData = payload,
                Flags = tcpFlags,
                DataOffset = PacketParser.TcpMinHeaderLength / 4,
                WindowSize = ushort.MaxValue,
            };
        }

        IPPacket ip = flow.IsIPv4
            ? new IPv4Packet(flow.Source.ToIPAddress(), flow.Destination.ToIPAddress()) { TimeToLive = hopLimit }
            : new IPv6Packet(flow.Source.ToIPAddress(), flow.Destination.ToIPAddress()) { HopLimit = hopLimit };
        ip.PayloadPacket = transport;
        var ethernet = new EthernetPacket(
            PhysicalAddress.Parse("02-AA-BB-CC-DD-01"),
            PhysicalAddress.Parse("02-AA-BB-CC-DD-02"),
            flow.IsIPv4 ? EthernetType.IPv4 : EthernetType.IPv6)
        {
            PayloadPacket = ip,
        };
        transport.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        switch (transport)
        {
            case UdpPacket udp:
                udp.UpdateUdpChecksum();
                break;
            case TcpPacket tcp:
                tcp.UpdateTcpChecksum();
                break;
        }

        if (ip is IPv4Packet v4)
        {
            v4.UpdateIPChecksum();
        }

        return ethernet.Bytes;
    }
}

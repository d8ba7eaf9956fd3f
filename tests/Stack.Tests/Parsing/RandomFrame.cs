using Netmem.Stack.Parsing;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>
/// A frame drawn from a seed: either builder, either IP version and transport, 0–2 VLAN tags of either TPID,
/// random addresses, ports and size, then IPv4 options, IPv6 extension headers, TCP options and Ethernet padding.
/// </summary>
public sealed record RandomFrame(int Seed, string Shape, byte[] Bytes)
{
    public static RandomFrame FromSeed(int seed)
    {
        var random = new Random(seed);
        FrameSource source = random.Next(2) == 0 ? FrameSource.PacketDotNet : FrameSource.FrameBuilder;
        int ipVersion = random.Next(2) == 0 ? 4 : 6;
        IpProtocol protocol = random.Next(2) == 0 ? IpProtocol.Udp : IpProtocol.Tcp;
        int vlanCount = random.Next(3);
        EtherType outerTag = random.Next(2) == 0 ? EtherType.QinQ : EtherType.Vlan;
        FlowKey flow = new(RandomAddress(random, ipVersion), RandomAddress(random, ipVersion), (ushort)random.Next(65536), (ushort)random.Next(65536), protocol);
        int payloadLength = random.Next(4) == 0 ? random.Next(8) : random.Next(1473);
        int frameLength = TestFlows.HeaderLength(ipVersion, protocol, vlanCount) + payloadLength;
        ushort outerVlanId = (ushort)random.Next(4096);
        ushort innerVlanId = (ushort)random.Next(4096);
        byte[] frame = TestFrames.Build(source, flow, vlanCount, frameLength, outerTag, (byte)random.Next(256), outerVlanId, innerVlanId);
        for (int tag = 0; tag < vlanCount; tag++)
        {
            // Random priority and drop-eligible bits above the 12-bit VLAN id.
            frame[14 + (4 * tag)] |= (byte)(random.Next(16) << 4);
        }

        int networkOffset = 14 + (4 * vlanCount);
        int ipHeaderLength = ipVersion == 4 ? 20 : 40;
        int ipv4OptionWords = ipVersion == 4 && random.Next(3) == 0 ? random.Next(1, 11) : 0;
        if (ipv4OptionWords > 0)
        {
            frame = FrameSurgery.WithIPv4Options(frame, networkOffset, ipv4OptionWords);
            ipHeaderLength += ipv4OptionWords * 4;
        }

        ExtensionHeader[] extensions = ipVersion == 6 ? RandomExtensionChain(random) : [];
        if (extensions.Length > 0)
        {
            frame = FrameSurgery.WithIPv6ExtensionHeaders(frame, networkOffset, extensions);
            ipHeaderLength += extensions.Sum(e => e.Length);
        }

        int tcpOptionWords = protocol == IpProtocol.Tcp && random.Next(3) == 0 ? random.Next(1, 11) : 0;
        if (tcpOptionWords > 0)
        {
            frame = FrameSurgery.WithTcpOptions(frame, networkOffset, networkOffset + ipHeaderLength, tcpOptionWords);
        }

        // PacketDotNet 1.4.8 does not take IPv6 extension headers off the payload length, so it counts Ethernet
        // padding after such a packet as payload; pad only where it can judge.
        bool padded = extensions.Length == 0 && random.Next(4) == 0;
        if (padded)
        {
            frame = FrameSurgery.PaddedTo(frame, 60 + random.Next(20));
        }

        string shape = $"{source} IPv{ipVersion} {protocol} vlan×{vlanCount}({outerTag} {outerVlanId}/{innerVlanId}) payload {payloadLength} ipopt {ipv4OptionWords} ext [{string.Join(',', extensions.Select(e => $"{e.Type}:{e.Length}"))}] tcpopt {tcpOptionWords} padded {padded}";
        return new RandomFrame(seed, shape, frame);
    }

    public override string ToString() => $"seed {Seed}: {Shape}";

    private static IpAddress RandomAddress(Random random, int ipVersion)
    {
        byte[] bytes = new byte[ipVersion == 4 ? 4 : 16];
        random.NextBytes(bytes);
        if (ipVersion == 6)
        {
            // Keep IPv6 addresses out of the IPv4-mapped range, which both parsers would render as IPv4.
            bytes[0] = 0x20;
        }

        return ipVersion == 4 ? IpAddress.ReadIPv4(bytes) : IpAddress.ReadIPv6(bytes);
    }

    /// <summary>
    /// A valid chain whose headers all have one length: PacketDotNet 1.4.8 reads every extension header's length
    /// from the first header of the chain, so only equal lengths give it the right answer. Unequal chains are
    /// checked against hand-computed offsets in <see cref="PacketParserExtensionHeaderSpecs"/>.
    /// </summary>
    private static ExtensionHeader[] RandomExtensionChain(Random random)
    {
        int units = random.Next(1, 4);
        var chain = new List<ExtensionHeader>();
        if (random.Next(3) == 0)
        {
            chain.Add(ExtensionHeader.HopByHop(units));
        }

        int more = random.Next(3);
        for (int i = 0; i < more; i++)
        {
            chain.Add(random.Next(2) == 0 ? ExtensionHeader.DestinationOptions(units) : ExtensionHeader.Routing(units));
        }

        return [.. chain];
    }
}

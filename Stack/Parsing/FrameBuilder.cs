using System.Buffers.Binary;

namespace Netmem.Stack.Parsing;

/// <summary>
/// Writes Ethernet (+VLAN) / IPv4 or IPv6 / UDP or TCP frames into a caller's buffer without allocating: the
/// synthetic traffic source that fills RX pages, and the test oracle's second opinion.
/// </summary>
public static class FrameBuilder
{
    private const ushort IPv4DontFragment = 0x4000;
    private const int MaxVlanId = 0x0FFF;
    private const int RampPeriod = 256;

    /// <summary>0, 1, …, 255, 0, 1, …, 255: any 256-byte window is the payload pattern for the seed it starts at.</summary>
    private static readonly byte[] Ramp = [.. Enumerable.Range(0, 2 * RampPeriod).Select(i => (byte)i)];

    /// <summary>The bytes of headers <paramref name="spec"/> needs: the smallest frame it can describe.</summary>
    public static int HeaderLength(in FrameSpec spec) => TransportOffset(spec) + TransportHeaderLength(spec.Flow.Protocol);

    /// <summary>
    /// Writes the frame <paramref name="spec"/> describes at the start of <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The flow mixes address families or is not UDP/TCP, or a VLAN setting is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The frame is shorter than its headers, longer than an IP length can state, or longer than <paramref name="destination"/>.</exception>
    public static FrameLayout Write(Span<byte> destination, in FrameSpec spec)
    {
        Validate(destination.Length, spec);
        FlowKey flow = spec.Flow;
        bool isIPv4 = flow.IsIPv4;
        Span<byte> frame = destination[..spec.FrameLength];

        spec.DestinationMac.WriteTo(frame);
        spec.SourceMac.WriteTo(frame[6..]);
        int offset = 12;
        if (spec.VlanCount > 0)
        {
            EtherType outerType = spec.VlanCount == 2 ? spec.OuterTagType : EtherType.Vlan;
            offset = WriteVlanTag(frame, offset, outerType, spec.OuterVlanId);
            if (spec.VlanCount == 2)
            {
                offset = WriteVlanTag(frame, offset, EtherType.Vlan, spec.InnerVlanId);
            }
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame[offset..], (ushort)(isIPv4 ? EtherType.IPv4 : EtherType.IPv6));
        int networkOffset = offset + 2;
        int transportOffset = TransportOffset(spec);
        int payloadOffset = transportOffset + TransportHeaderLength(flow.Protocol);
        Span<byte> segment = frame[transportOffset..];
        Span<byte> payload = frame[payloadOffset..];
        FillPayload(payload, spec.PayloadSeed);

        if (isIPv4)
        {
            WriteIPv4Header(frame[networkOffset..transportOffset], spec, frame.Length - networkOffset);
        }
        else
        {
            WriteIPv6Header(frame[networkOffset..transportOffset], spec, segment.Length);
        }

        if (flow.Protocol == IpProtocol.Udp)
        {
            WriteUdpHeader(segment, flow);
        }
        else
        {
            WriteTcpHeader(segment, spec);
        }

        if (spec.ComputeTransportChecksum)
        {
            WriteTransportChecksum(segment, flow);
        }

        return new FrameLayout(spec.FrameLength, payloadOffset, payload.Length);
    }

    private static int TransportOffset(in FrameSpec spec) =>
        PacketParser.EthernetHeaderLength + (spec.VlanCount * PacketParser.VlanTagLength)
        + (spec.Flow.IsIPv4 ? PacketParser.IPv4MinHeaderLength : PacketParser.IPv6HeaderLength);

    private static int TransportHeaderLength(IpProtocol protocol) =>
        protocol == IpProtocol.Udp ? PacketParser.UdpHeaderLength : PacketParser.TcpMinHeaderLength;

    private static void Validate(int capacity, in FrameSpec spec)
    {
        FlowKey flow = spec.Flow;
        if (flow.Source.IsIPv4 != flow.Destination.IsIPv4)
        {
            throw new ArgumentException($"The flow {flow} mixes IPv4 and IPv6 addresses.", nameof(spec));
        }

        if (flow.Protocol is not (IpProtocol.Udp or IpProtocol.Tcp))
        {
            throw new ArgumentException($"The builder writes UDP or TCP, not {flow.Protocol}.", nameof(spec));
        }

        if (spec.VlanCount is < 0 or > PacketParser.MaxVlanTags)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.VlanCount, "VlanCount must be 0, 1 or 2.");
        }

        if (spec.OuterVlanId > MaxVlanId || spec.InnerVlanId > MaxVlanId)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), $"VLAN ids are 12 bits (0..{MaxVlanId}).");
        }

        if (spec.OuterTagType is not (EtherType.QinQ or EtherType.Vlan))
        {
            throw new ArgumentException($"An outer VLAN tag is {EtherType.QinQ} or {EtherType.Vlan}, not {spec.OuterTagType}.", nameof(spec));
        }

        int headers = HeaderLength(spec);
        int ipLengthField = spec.FrameLength - (flow.IsIPv4 ? TransportOffset(spec) - PacketParser.IPv4MinHeaderLength : TransportOffset(spec));
        if (spec.FrameLength < headers || ipLengthField > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.FrameLength, $"The frame must hold its {headers} header bytes and fit an IP length field.");
        }

        if (spec.FrameLength > capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.FrameLength, $"The destination holds only {capacity} bytes.");
        }
    }

    /// <summary>
    /// Writes <c>(byte)(seed + i)</c> at each index. The pattern repeats every 256 bytes: the first 256 are copied
    /// from <see cref="Ramp"/> starting at the seed, and the rest in doubling blocks, each starting at a multiple of 256.
    /// </summary>
    private static void FillPayload(Span<byte> payload, byte seed)
    {
        int filled = Math.Min(payload.Length, RampPeriod);
        Ramp.AsSpan(seed, filled).CopyTo(payload);
        while (filled < payload.Length)
        {
            int copy = Math.Min(filled, payload.Length - filled);
            payload[..copy].CopyTo(payload[filled..]);
            filled += copy;
        }
    }

    private static int WriteVlanTag(Span<byte> frame, int offset, EtherType tagType, ushort vlanId)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame[offset..], (ushort)tagType);
        BinaryPrimitives.WriteUInt16BigEndian(frame[(offset + 2)..], vlanId);
        return offset + PacketParser.VlanTagLength;
    }

    private static void WriteIPv4Header(Span<byte> header, in FrameSpec spec, int totalLength)
    {
        header[0] = 0x45;
        header[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], spec.IPv4Identification);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], IPv4DontFragment);
        header[8] = spec.HopLimit;
        header[9] = (byte)spec.Flow.Protocol;
        header[10] = 0;
        header[11] = 0;
        spec.Flow.Source.WriteTo(header[12..]);
        spec.Flow.Destination.WriteTo(header[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], InternetChecksum.Compute(header));
    }

    private static void WriteIPv6Header(Span<byte> header, in FrameSpec spec, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(header, 0x6000_0000);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], (ushort)payloadLength);
        header[6] = (byte)spec.Flow.Protocol;
        header[7] = spec.HopLimit;
        spec.Flow.Source.WriteTo(header[8..]);
        spec.Flow.Destination.WriteTo(header[24..]);
    }

    private static void WriteUdpHeader(Span<byte> segment, in FlowKey flow)
    {
        BinaryPrimitives.WriteUInt16BigEndian(segment, flow.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment[2..], flow.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)segment.Length);
        BinaryPrimitives.WriteUInt16BigEndian(segment[6..], 0);
    }

    private static void WriteTcpHeader(Span<byte> segment, in FrameSpec spec)
    {
        const byte AckFlag = 0x10;
        BinaryPrimitives.WriteUInt16BigEndian(segment, spec.Flow.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment[2..], spec.Flow.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment[4..], spec.TcpSequence);
        BinaryPrimitives.WriteUInt32BigEndian(segment[8..], (spec.TcpFlags & AckFlag) != 0 ? 1u : 0u);
        segment[12] = (PacketParser.TcpMinHeaderLength / 4) << 4;
        segment[13] = spec.TcpFlags;
        BinaryPrimitives.WriteUInt16BigEndian(segment[14..], ushort.MaxValue);
        BinaryPrimitives.WriteUInt32BigEndian(segment[16..], 0);
    }

    /// <summary>The UDP/TCP checksum over the pseudo-header (addresses, protocol, length) and the segment.</summary>
    private static void WriteTransportChecksum(Span<byte> segment, in FlowKey flow)
    {
        Span<byte> addresses = stackalloc byte[32];
        int sourceLength = flow.Source.WriteTo(addresses);
        int addressLength = sourceLength + flow.Destination.WriteTo(addresses[sourceLength..]);
        ulong sum = InternetChecksum.Add(0, addresses[..addressLength]);
        sum += (ulong)flow.Protocol + (ulong)segment.Length;
        sum = InternetChecksum.Add(sum, segment);
        ushort checksum = InternetChecksum.Finish(sum);

        // A computed UDP checksum of 0 is sent as 0xFFFF: 0 means "no checksum" (RFC 768).
        if (flow.Protocol == IpProtocol.Udp && checksum == 0)
        {
            checksum = ushort.MaxValue;
        }

        BinaryPrimitives.WriteUInt16BigEndian(segment[(flow.Protocol == IpProtocol.Udp ? 6 : 16)..], checksum);
    }
}

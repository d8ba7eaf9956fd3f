using System.Buffers.Binary;
using Netmem.Stack.Parsing;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>
/// Edits a well-formed frame into a variant (tags, options, extension headers, padding), fixing every length field
/// the edit affects, so neither builder needs to know those features.
/// </summary>
public static class FrameSurgery
{
    public const byte IPv4OptionNop = 1;
    public const byte TcpOptionNop = 1;

    public static byte[] Insert(byte[] frame, int offset, ReadOnlySpan<byte> bytes) =>
        [.. frame.AsSpan(0, offset), .. bytes, .. frame.AsSpan(offset)];

    /// <summary>Inserts tags after the MAC addresses, outermost first.</summary>
    public static byte[] WithVlanTags(byte[] frame, params (EtherType Tpid, ushort VlanId)[] tags)
    {
        byte[] bytes = new byte[tags.Length * PacketParser.VlanTagLength];
        for (int i = 0; i < tags.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i * 4), (ushort)tags[i].Tpid);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan((i * 4) + 2), tags[i].VlanId);
        }

        return Insert(frame, 12, bytes);
    }

    public static byte[] PaddedTo(byte[] frame, int length) => frame.Length >= length ? frame : [.. frame, .. new byte[length - frame.Length]];

    /// <summary>Adds 4-byte words of NOP options to an IPv4 header; fixes IHL, total length and checksum.</summary>
    public static byte[] WithIPv4Options(byte[] frame, int networkOffset, int words)
    {
        int headerLength = (frame[networkOffset] & 0x0F) * 4;
        byte[] options = Enumerable.Repeat(IPv4OptionNop, words * 4).ToArray();
        byte[] edited = Insert(frame, networkOffset + headerLength, options);
        Span<byte> ip = edited.AsSpan(networkOffset);
        ip[0] = (byte)(0x40 | ((headerLength / 4) + words));
        AddToLength(ip[2..], options.Length);
        RefreshIPv4Checksum(edited, networkOffset);
        return edited;
    }

    /// <summary>Adds 4-byte words of NOP options to a TCP header; fixes the data offset and the IP length.</summary>
    public static byte[] WithTcpOptions(byte[] frame, int networkOffset, int transportOffset, int words)
    {
        int headerLength = (frame[transportOffset + 12] >> 4) * 4;
        byte[] options = Enumerable.Repeat(TcpOptionNop, words * 4).ToArray();
        byte[] edited = Insert(frame, transportOffset + headerLength, options);
        edited[transportOffset + 12] = (byte)(((headerLength / 4) + words) << 4);
        GrowIpLength(edited, networkOffset, options.Length);
        return edited;
    }

    /// <summary>
    /// Inserts IPv6 extension headers right after the fixed header, in the given order, chaining their next-header
    /// fields; the last points at what the fixed header pointed at. Other headers are filled with zero bytes
    /// (Pad1 options; a routing header of type 0 with no segments left).
    /// </summary>
    public static byte[] WithIPv6ExtensionHeaders(byte[] frame, int networkOffset, params ExtensionHeader[] headers)
    {
        byte[] chain = new byte[headers.Sum(h => h.Length)];
        byte finalNext = frame[networkOffset + 6];
        int at = 0;
        for (int i = 0; i < headers.Length; i++)
        {
            ExtensionHeader header = headers[i];
            chain[at] = i + 1 < headers.Length ? (byte)headers[i + 1].Type : finalNext;
            if (header.Type == IpProtocol.IPv6Fragment)
            {
                BinaryPrimitives.WriteUInt16BigEndian(chain.AsSpan(at + 2), (ushort)(header.FragmentOffset | (header.MoreFragments ? 1 : 0)));
                BinaryPrimitives.WriteUInt32BigEndian(chain.AsSpan(at + 4), 0x1234_5678);
            }
            else
            {
                chain[at + 1] = (byte)(header.Units - 1);
            }

            at += header.Length;
        }

        byte[] edited = Insert(frame, networkOffset + PacketParser.IPv6HeaderLength, chain);
        if (headers.Length > 0)
        {
            edited[networkOffset + 6] = (byte)headers[0].Type;
        }

        GrowIpLength(edited, networkOffset, chain.Length);
        return edited;
    }

    /// <summary>Sets IPv4 fragment fields (offset in bytes, a multiple of 8) and refreshes the checksum.</summary>
    public static byte[] AsIPv4Fragment(byte[] frame, int networkOffset, int fragmentOffset, bool moreFragments)
    {
        byte[] edited = [.. frame];
        ushort field = (ushort)((fragmentOffset / 8) | (moreFragments ? 0x2000 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(edited.AsSpan(networkOffset + 6), field);
        RefreshIPv4Checksum(edited, networkOffset);
        return edited;
    }

    public static void RefreshIPv4Checksum(byte[] frame, int networkOffset)
    {
        Span<byte> header = frame.AsSpan(networkOffset, (frame[networkOffset] & 0x0F) * 4);
        header[10] = 0;
        header[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], InternetChecksum.Compute(header));
    }

    private static void GrowIpLength(byte[] frame, int networkOffset, int by)
    {
        if (frame[networkOffset] >> 4 == 4)
        {
            AddToLength(frame.AsSpan(networkOffset + 2), by);
            RefreshIPv4Checksum(frame, networkOffset);
        }
        else
        {
            AddToLength(frame.AsSpan(networkOffset + 4), by);
        }
    }

    private static void AddToLength(Span<byte> field, int by) =>
        BinaryPrimitives.WriteUInt16BigEndian(field, (ushort)(BinaryPrimitives.ReadUInt16BigEndian(field) + by));
}

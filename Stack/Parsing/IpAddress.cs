using System.Buffers.Binary;
using System.Net;

namespace Netmem.Stack.Parsing;

/// <summary>
/// An IP address as 16 bytes held in two integers: no array, no string, copyable and comparable in a few
/// instructions, so it can sit inside <see cref="ParsedPacket"/> and <see cref="FlowKey"/>.
/// </summary>
/// <remarks>
/// IPv4 addresses are stored IPv4-mapped (<c>::ffff:a.b.c.d</c>), the form dual-stack sockets use, so one type and
/// one comparison cover both families. <see cref="Upper"/> holds bytes 0..7 and <see cref="Lower"/> bytes 8..15,
/// each read big-endian, so ordering the pair orders the addresses as bytes.
/// </remarks>
public readonly struct IpAddress : IEquatable<IpAddress>, IComparable<IpAddress>
{
    private const ulong MappedPrefix = 0x0000_FFFF_0000_0000UL;
    private const ulong MappedPrefixMask = 0xFFFF_FFFF_0000_0000UL;

    /// <summary>An address from its 16 bytes as two big-endian halves: <paramref name="upper"/> bytes 0..7, <paramref name="lower"/> bytes 8..15.</summary>
    public IpAddress(ulong upper, ulong lower)
    {
        Upper = upper;
        Lower = lower;
    }

    /// <summary>Bytes 0..7 of the address, big-endian (zero for an IPv4 address).</summary>
    public ulong Upper { get; }

    /// <summary>Bytes 8..15 of the address, big-endian; for an IPv4 address, the <c>ffff</c> prefix and the four IPv4 bytes.</summary>
    public ulong Lower { get; }

    /// <summary>True for an IPv4(-mapped) address.</summary>
    public bool IsIPv4 => Upper == 0 && (Lower & MappedPrefixMask) == MappedPrefix;

    /// <summary>The IPv4(-mapped) address of a host-order integer (<c>0x0A000001</c> is 10.0.0.1).</summary>
    public static IpAddress FromIPv4(uint address) => new(0, MappedPrefix | address);

    /// <summary>Reads four network-order bytes.</summary>
    public static IpAddress ReadIPv4(ReadOnlySpan<byte> source) => FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(source));

    /// <summary>Reads sixteen network-order bytes.</summary>
    public static IpAddress ReadIPv6(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));

    /// <summary>Converts from <see cref="IPAddress"/> (allocates nothing, but the argument already did).</summary>
    public static IpAddress From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        return written == 4 ? ReadIPv4(bytes) : ReadIPv6(bytes);
    }

    /// <summary>The IPv4 address as a host-order integer; throws for an IPv6 address.</summary>
    public uint ToIPv4()
    {
        if (!IsIPv4)
        {
            throw new InvalidOperationException($"{this} is not an IPv4 address.");
        }

        return (uint)Lower;
    }

    /// <summary>Writes the address in network order: 4 bytes for IPv4, 16 for IPv6. Returns the count written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (IsIPv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Lower);
            return 4;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, Upper);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Lower);
        return 16;
    }

    /// <summary>Converts to <see cref="IPAddress"/>; allocates, so keep it off the packet path.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteTo(bytes);
        return new IPAddress(bytes[..length]);
    }

    /// <summary>True when both hold the same 16 bytes.</summary>
    public static bool operator ==(IpAddress left, IpAddress right) => left.Equals(right);

    /// <summary>True when the addresses differ in any byte.</summary>
    public static bool operator !=(IpAddress left, IpAddress right) => !left.Equals(right);

    /// <summary>True when both hold the same 16 bytes; an IPv4 address equals its IPv4-mapped IPv6 form.</summary>
    public bool Equals(IpAddress other) => Upper == other.Upper && Lower == other.Lower;

    /// <summary>True when <paramref name="obj"/> is an <see cref="IpAddress"/> with the same 16 bytes.</summary>
    public override bool Equals(object? obj) => obj is IpAddress other && Equals(other);

    /// <summary>A hash of the 16 bytes.</summary>
    public override int GetHashCode() => HashCode.Combine(Upper, Lower);

    /// <summary>Orders addresses as their 16 bytes in network order (so all IPv4 addresses sort together).</summary>
    public int CompareTo(IpAddress other)
    {
        int upper = Upper.CompareTo(other.Upper);
        return upper != 0 ? upper : Lower.CompareTo(other.Lower);
    }

    /// <summary>The usual text form (<c>10.0.0.1</c>, <c>fe80::1</c>); allocates, so keep it off the packet path.</summary>
    public override string ToString() => ToIPAddress().ToString();
}

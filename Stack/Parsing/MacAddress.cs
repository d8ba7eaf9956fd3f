using System.Buffers.Binary;

namespace Netmem.Stack.Parsing;

/// <summary>A 48-bit Ethernet address held in the low bits of an integer, most significant byte first on the wire.</summary>
public readonly record struct MacAddress(ulong Value)
{
    /// <summary>Bytes of a MAC address on the wire.</summary>
    public const int Length = 6;

    private const ulong Mask = 0xFFFF_FFFF_FFFFUL;

    /// <summary>Reads six network-order bytes.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> source) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32) | BinaryPrimitives.ReadUInt32BigEndian(source[2..]));

    /// <summary>Writes the address as six network-order bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        ulong value = Value & Mask;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)value);
    }

    /// <summary>The usual text form, lower-case hex pairs separated by colons (<c>02:00:00:00:00:01</c>).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        WriteTo(bytes);
        return string.Join(':', Convert.ToHexStringLower(bytes).Chunk(2).Select(pair => new string(pair)));
    }
}

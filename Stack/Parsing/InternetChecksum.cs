using System.Buffers.Binary;

namespace Netmem.Stack.Parsing;

/// <summary>The RFC 1071 ones'-complement checksum used by IPv4, UDP and TCP.</summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/>, as big-endian 16-bit words (an odd last byte padded with zero), to a running sum.</summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        }

        for (; i + 2 <= data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (ulong)data[i] << 8;
        }

        return sum;
    }

    /// <summary>Folds a running sum to 16 bits and complements it: the value to store in the header.</summary>
    public static ushort Finish(ulong sum)
    {
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));
}

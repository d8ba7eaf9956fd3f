using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Netmem.Stack.Parsing;

/// <summary>The RFC 1071 ones'-complement checksum used by IPv4, UDP and TCP.</summary>
public static class InternetChecksum
{
    /// <summary>
    /// Adds <paramref name="data"/>, as big-endian 16-bit words (an odd last byte padded with zero), to a running sum.
    /// </summary>
    /// <remarks>
    /// The bulk is summed eight bytes at a time in the machine's byte order, with the carry out of each 64-bit add
    /// added back in (ones'-complement addition), then folded to 16 bits and byte-swapped: RFC 1071 §2(B) shows the
    /// ones'-complement sum is the same in either byte order up to that swap. The tail is added as big-endian words.
    /// </remarks>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        ulong wide = 0;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong word = MemoryMarshal.Read<ulong>(data[i..]);
            wide += word;
            if (wide < word)
            {
                wide++;
            }
        }

        ushort bulk = Fold(wide);
        sum += BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(bulk) : bulk;

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
    public static ushort Finish(ulong sum) => (ushort)~Fold(sum);

    /// <summary>The checksum of <paramref name="data"/> alone, ready to store; over a header that includes its stored checksum, 0 means it is correct.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>Folds a ones'-complement sum to 16 bits, adding each carry back in.</summary>
    private static ushort Fold(ulong sum)
    {
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }
}

using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

public sealed class InternetChecksumSpecs
{
    [Fact]
    public void The_sum_matches_a_word_by_word_reference_for_every_length_and_alignment()
    {
        var random = new Random(77);
        byte[] buffer = new byte[600];
        random.NextBytes(buffer);
        for (int start = 0; start < 8; start++)
        {
            for (int length = 0; length <= 300; length++)
            {
                ReadOnlySpan<byte> data = buffer.AsSpan(start, length);
                ulong carried = (ulong)random.Next(0, 1 << 20);

                Assert.Equal(Reference(carried, data), InternetChecksum.Finish(InternetChecksum.Add(carried, data)));
            }
        }
    }

    [Fact]
    public void The_rfc1071_example_sums_to_its_published_value()
    {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is its complement, 220d.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

        Assert.Equal(0x220d, InternetChecksum.Compute(data));
    }

    [Fact]
    public void A_header_with_its_checksum_filled_in_sums_to_zero()
    {
        byte[] header = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        ushort checksum = InternetChecksum.Compute(header);
        header[10] = (byte)(checksum >> 8);
        header[11] = (byte)checksum;

        Assert.Equal(0xb861, checksum);
        Assert.Equal(0, InternetChecksum.Compute(header));
    }

    private static ushort Reference(ulong sum, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (ulong)((data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0));
        }

        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}

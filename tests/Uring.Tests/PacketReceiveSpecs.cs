using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Netmem.TestSupport;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>AF_PACKET on lo: the kernel writes whole Ethernet frames (zeroed 14-byte header) into pool pages.</summary>
public sealed class PacketReceiveSpecs
{
    [PrivilegedFact]
    public async Task A_packet_socket_on_lo_receives_each_sent_datagram_as_one_whole_frame()
    {
        const int count = 300;
        const int payload = 100;
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)sink.LocalEndPoint!).Port;

        using var bed = new UringTestBed(UringSource.Packet("lo"));
        Assert.True(bed.Rx[0].FrameFormat.IsEthernet);
        bed.Post(0, UringTestBed.RingSize);
        await new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, port),
            Count = count,
            PayloadBytes = payload,
            PacketsPerSecond = 20_000,
        }).RunAsync();

        var seen = new HashSet<long>();
        int malformed = 0;
        bed.ReapUntil(0, () => seen.Count >= count, frame =>
        {
            Span<byte> bytes = frame.Netmem.GetSpan().Slice(frame.Offset, frame.Length);
            if (IsOurDatagram(bytes, port))
            {
                Assert.Equal(14 + 20 + 8 + payload, frame.Length);
                Assert.True(bytes[..12].IndexOfAnyExcept((byte)0) < 0, "frames on lo carry zeroed MAC addresses");
                long sequence = UdpTrafficGenerator.Validate(bytes[(14 + 20 + 8)..], payload);
                if (sequence < 0 || !seen.Add(sequence))
                {
                    malformed++;
                }
            }

            frame.Netmem.ReturnToPool();
        }, TimeSpan.FromSeconds(10));

        Assert.Equal(0, malformed);
        Assert.Equal(count, seen.Count);
        var report = bed.TearDown();
        Assert.Equal(0, report.Violations);
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [PrivilegedFact]
    public void Two_queues_in_a_fanout_group_split_the_flows_and_together_see_every_frame()
    {
        const int count = 400;
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)sink.LocalEndPoint!).Port;

        using var bed = new UringTestBed(UringSource.Packet("lo"), queues: 2);
        bed.Post(0, 128);
        bed.Post(1, 128);
        new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, port),
            Count = count,
            PayloadBytes = 64,
            Flows = 16,
            PacketsPerSecond = 20_000,
        }).Run();

        var perQueue = new int[2];
        var seen = new HashSet<long>();
        var frames = new Stack.Rx.RxFrame[64];
        long deadline = Environment.TickCount64 + 10_000;
        while (seen.Count < count && Environment.TickCount64 < deadline)
        {
            for (int q = 0; q < 2; q++)
            {
                int n = bed.Rx[q].Reap(frames);
                for (int i = 0; i < n; i++)
                {
                    Span<byte> bytes = frames[i].Netmem.GetSpan()[..frames[i].Length];
                    if (IsOurDatagram(bytes, port))
                    {
                        long sequence = UdpTrafficGenerator.Validate(bytes[42..], 64);
                        Assert.True(seen.Add(sequence), $"queue {q} frame of {bytes.Length} bytes: sequence {sequence}, seen {seen.Count}, per queue {perQueue[0]}/{perQueue[1]}");
                        perQueue[q]++;
                    }

                    frames[i].Netmem.ReturnToPool();
                }

                bed.Post(q, n);
            }

            Thread.Sleep(1);
        }

        Assert.Equal(count, seen.Count);
        Assert.All(perQueue, n => Assert.True(n > 0, "the fanout hash gave one queue no flow"));
        Assert.Equal(0, bed.TearDown().Violations);
    }

    private static bool IsOurDatagram(ReadOnlySpan<byte> frame, int port) =>
        frame.Length >= 42
        && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x0800
        && frame[14 + 9] == 17
        && (frame[14] & 0x0F) == 5
        && BinaryPrimitives.ReadUInt16BigEndian(frame[(14 + 20 + 2)..]) == port;
}

using System.Buffers.Binary;
using System.Net;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;
using Netmem.TestSupport;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>
/// Real Ethernet between two private network namespaces (a veth pair the spec creates and removes): the device binds
/// inside the receiver's namespace; the generator sends from the sender's.
/// </summary>
public sealed class VethReceiveSpecs
{
    private const int Payload = 120;

    [PrivilegedFact]
    public void A_packet_socket_on_a_veth_end_receives_whole_ethernet_frames_with_their_addresses()
    {
        const int count = 300;
        using var veth = new VethPair();
        UringBinding binding = PrivateNetworkNamespace.Run(veth.ReceiverNamespacePath, () =>
            new UringDevice(new UringDeviceOptions { Source = UringSource.Packet(veth.ReceiverInterface), SlotsPerQueue = 512 })
                .Bind(new DeviceBindContext(1, 4096, 256)));
        const int port = 40_000;

        var seen = Receive(binding, veth, port, count, frame =>
        {
            if (frame.Length < 42 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800 || frame[23] != 17
                || BinaryPrimitives.ReadUInt16BigEndian(frame[36..]) != port)
            {
                return -2; // another frame on the link (IPv6 neighbour discovery after link up): not ours
            }

            Assert.Equal(veth.ReceiverMac, Mac(frame[..6]));
            Assert.Equal(veth.SenderMac, Mac(frame[6..12]));
            Assert.Equal(14 + 20 + 8 + Payload, frame.Length);
            return UdpTrafficGenerator.Validate(frame[42..], Payload);
        });

        Assert.Equal(count, seen);
    }

    [PrivilegedFact]
    public void A_udp_socket_in_the_receivers_namespace_gets_every_datagram_sent_across_the_veth_pair()
    {
        const int count = 500;
        using var veth = new VethPair();
        UringBinding binding = PrivateNetworkNamespace.Run(veth.ReceiverNamespacePath, () =>
            new UringDevice(new UringDeviceOptions { Source = UringSource.Udp(new IPEndPoint(IPAddress.Parse(veth.ReceiverAddress), 0)), SlotsPerQueue = 512 })
                .Bind(new DeviceBindContext(1, 4096, 256)));

        int seen = Receive(binding, veth, binding.BoundPort, count, payload => UdpTrafficGenerator.Validate(payload, Payload));
        Assert.Equal(count, seen);
    }

    /// <summary>Sends <paramref name="count"/> datagrams from the sender namespace and returns how many distinct valid ones arrived.</summary>
    private static int Receive(UringBinding binding, VethPair veth, int port, int count, SpanFunc classify)
    {
        var pool = new PagePool(new PagePoolOptions { Device = binding.GetDmaDevice(0), QueueIndex = 0 });
        IRxQueueDevice rx = binding.OpenRxQueue(0, pool);
        for (int i = 0; i < 256; i++)
        {
            Assert.True(rx.TryPost(pool.Allocate()));
        }

        UdpTrafficReport sent = new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Parse(veth.ReceiverAddress), port),
            NetworkNamespace = veth.SenderNamespacePath,
            Count = count,
            PayloadBytes = Payload,
            PacketsPerSecond = 20_000,
            Flows = 4,
            MaxDuration = TimeSpan.FromSeconds(10),
        }).Run();
        Assert.Equal(count, sent.Sent);

        var seen = new HashSet<long>();
        var frames = new RxFrame[64];
        long deadline = Environment.TickCount64 + 10_000;
        while (seen.Count < count && Environment.TickCount64 < deadline)
        {
            int n = rx.Reap(frames);
            for (int i = 0; i < n; i++)
            {
                long sequence = classify(frames[i].Netmem.GetSpan()[..frames[i].Length]);
                Assert.NotEqual(-1, sequence);
                Assert.True(sequence == -2 || seen.Add(sequence), $"datagram {sequence} arrived twice");
                frames[i].Netmem.ReturnToPool();
                Assert.True(rx.TryPost(pool.Allocate()));
            }

            if (n == 0)
            {
                Thread.Sleep(2);
            }
        }

        rx.Close();
        pool.Destroy();
        DeviceTeardownReport report = binding.TearDown(0);
        Assert.Equal(0, report.Violations);
        Assert.Equal(0, report.StillMapped);
        Assert.Equal(0, pool.Inflight);
        return seen.Count;
    }

    private static string Mac(ReadOnlySpan<byte> bytes) => string.Join(':', bytes.ToArray().Select(b => b.ToString("x2")));

    private delegate long SpanFunc(ReadOnlySpan<byte> frame);
}

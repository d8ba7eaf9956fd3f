using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Netmem.Driver.Devices;
using Netmem.TestSupport;
using Netmem.Uring.Interop;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>The packet fanout group the queues of an AF_PACKET source share.</summary>
public sealed class FanoutSpecs
{
    private const int AfPacket = 17;
    private const int SockRaw = 3;
    private const int SolPacket = 263;
    private const int PacketFanout = 18;
    private const int PacketFanoutCpu = 2;

    [PrivilegedFact]
    public unsafe void Groups_squatted_by_another_socket_on_the_interface_neither_refuse_the_bind_nor_mix_with_its_queues()
    {
        // Sockets of "another process" hold fanout groups on lo with a different mode, over the ids a group number
        // derived from this process (and a counter) would pick: joining any of them is refused by the kernel.
        int start = (Environment.ProcessId * 7919) & 0x7FFF;
        var squatters = new List<int>();
        try
        {
            for (int id = start; id < start + 512; id++)
            {
                squatters.Add(OpenFanoutMember(id & 0xFFFF, PacketFanoutCpu));
            }

            using var bed = new UringTestBed(UringSource.Packet("lo"), queues: 2);
            Assert.Equal(2, bed.Binding.QueueCount);

            // The queues still see traffic: one frame sent on lo reaches one of them.
            bed.Post(0, 16);
            bed.Post(1, 16);
            using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)sink.LocalEndPoint!).Port;
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            int ours = 0;
            var frames = new Stack.Rx.RxFrame[64];
            long deadline = Environment.TickCount64 + 10_000;
            while (ours == 0 && Environment.TickCount64 < deadline)
            {
                sender.SendTo(new byte[32], new IPEndPoint(IPAddress.Loopback, port));
                for (int q = 0; q < 2; q++)
                {
                    int n = bed.Rx[q].Reap(frames);
                    for (int i = 0; i < n; i++)
                    {
                        Span<byte> bytes = frames[i].Netmem.GetSpan()[..frames[i].Length];
                        if (bytes.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(bytes[36..]) == port)
                        {
                            ours++;
                        }

                        frames[i].Netmem.ReturnToPool();
                    }

                    bed.Post(q, n);
                }

                Thread.Sleep(5);
            }

            Assert.True(ours > 0, "no frame reached the queues");
            Assert.Equal(0, bed.TearDown().Violations);
        }
        finally
        {
            foreach (int fd in squatters)
            {
                LinuxSyscalls.Close(fd);
            }
        }
    }

    private static unsafe int OpenFanoutMember(int id, int mode)
    {
        int fd = LinuxSyscalls.Socket(AfPacket, SockRaw, 0);
        Assert.True(fd >= 0, $"socket failed: {Errno.Describe(-fd)}");
        byte* address = stackalloc byte[20];
        new Span<byte>(address, 20).Clear();
        *(ushort*)address = AfPacket;

        // Protocol 0x0806 (ARP only): the squatter's group needs a running hook on lo, not the test's traffic.
        *(ushort*)(address + 2) = BinaryPrimitives.ReverseEndianness((ushort)0x0806);
        *(int*)(address + 4) = (int)LinuxSyscalls.InterfaceIndexOf("lo");
        Assert.Equal(0, LinuxSyscalls.Bind(fd, address, 20));
        Assert.Equal(0, LinuxSyscalls.SetSocketOption(fd, SolPacket, PacketFanout, id | (mode << 16)));
        return fd;
    }
}

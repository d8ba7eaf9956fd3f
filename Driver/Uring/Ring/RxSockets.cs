using System.Buffers.Binary;
using System.Net;
using Netmem.Driver.Devices;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// Opens the sockets that play the NIC's RX queues: one per queue, spread like RSS (a PACKET_FANOUT hash group for
/// AF_PACKET, SO_REUSEPORT for UDP). Refusals become <see cref="DeviceBindException"/> in words.
/// </summary>
internal static unsafe class RxSockets
{
    private const int AfInet = 2;
    private const int AfPacket = 17;
    private const int SockDgram = 2;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const ushort EthPAll = 0x0003;
    private const int SolSocket = 1;
    private const int SoRcvBuf = 8;
    private const int SoReusePort = 15;
    private const int SoRcvBufForce = 33;
    private const int SolPacket = 263;
    private const int PacketFanout = 18;
    private const int PacketIgnoreOutgoing = 23;
    private const int PacketFanoutHash = 0;
    private const int PacketFanoutFlagIgnoreOutgoing = 0x4000;

    private static int s_fanoutGroup = (Environment.ProcessId * 7919) & 0x7FFF;

    /// <summary>Opens <paramref name="count"/> sockets for <paramref name="source"/>; returns their fds and, for UDP, the bound port.</summary>
    public static (int[] Fds, int BoundPort) Open(UringSource source, int count, int receiveBufferBytes)
    {
        var fds = new List<int>(count);
        try
        {
            int port = 0;
            int group = Interlocked.Increment(ref s_fanoutGroup) & 0xFFFF;
            for (int i = 0; i < count; i++)
            {
                int fd = source switch
                {
                    PacketSource packet => OpenPacket(packet.InterfaceName, count > 1 ? group : -1),
                    UdpSource udp => OpenUdp(udp.Endpoint, ref port, count > 1),
                    _ => throw new DeviceBindException("Unknown packet source."),
                };
                fds.Add(fd);
                if (receiveBufferBytes > 0 && LinuxSyscalls.SetSocketOption(fd, SolSocket, SoRcvBufForce, receiveBufferBytes) < 0)
                {
                    LinuxSyscalls.SetSocketOption(fd, SolSocket, SoRcvBuf, receiveBufferBytes);
                }
            }

            return (fds.ToArray(), port);
        }
        catch
        {
            CloseAll(fds);
            throw;
        }
    }

    public static void CloseAll(IEnumerable<int> fds)
    {
        foreach (int fd in fds)
        {
            LinuxSyscalls.Close(fd);
        }
    }

    private static int OpenPacket(string interfaceName, int fanoutGroup)
    {
        uint index = LinuxSyscalls.InterfaceIndexOf(interfaceName);
        if (index == 0)
        {
            throw new DeviceBindException($"There is no network interface named \"{interfaceName}\".");
        }

        // Protocol 0 at creation: the socket receives nothing until bind names the protocol and the interface, so no
        // frame from another interface slips in between.
        int fd = LinuxSyscalls.Socket(AfPacket, SockRaw | SockCloexec, 0);
        if (fd < 0)
        {
            throw new DeviceBindException(-fd is Errno.EPERM or Errno.EACCES
                ? "No permission to open a packet socket (AF_PACKET needs CAP_NET_RAW): run as root or grant the capability."
                : $"Opening a packet socket failed: {Errno.Describe(-fd)}.");
        }

        try
        {
            byte* address = stackalloc byte[20];
            new Span<byte>(address, 20).Clear();
            *(ushort*)address = AfPacket;
            *(ushort*)(address + 2) = BinaryPrimitives.ReverseEndianness(EthPAll);
            *(int*)(address + 4) = (int)index;
            Require(LinuxSyscalls.Bind(fd, address, 20), $"Binding a packet socket to \"{interfaceName}\"");

            // A NIC's RX queue sees what arrives, not what the host sends: drop the outgoing copies AF_PACKET taps.
            Require(LinuxSyscalls.SetSocketOption(fd, SolPacket, PacketIgnoreOutgoing, 1), "Ignoring outgoing frames (PACKET_IGNORE_OUTGOING)");
            if (fanoutGroup >= 0)
            {
                // A fanout group taps with its own hook, which ignores the member's PACKET_IGNORE_OUTGOING: the group
                // needs the flag itself (Linux 6.2+).
                int typeAndFlags = PacketFanoutHash | PacketFanoutFlagIgnoreOutgoing;
                Require(LinuxSyscalls.SetSocketOption(fd, SolPacket, PacketFanout, fanoutGroup | (typeAndFlags << 16)), "Joining the packet fanout group (PACKET_FANOUT, hash, ignoring outgoing frames)");
            }

            return fd;
        }
        catch
        {
            LinuxSyscalls.Close(fd);
            throw;
        }
    }

    private static int OpenUdp(IPEndPoint endpoint, ref int port, bool reusePort)
    {
        int fd = LinuxSyscalls.Socket(AfInet, SockDgram | SockCloexec, 0);
        if (fd < 0)
        {
            throw new DeviceBindException($"Opening a UDP socket failed: {Errno.Describe(-fd)}.");
        }

        try
        {
            if (reusePort)
            {
                Require(LinuxSyscalls.SetSocketOption(fd, SolSocket, SoReusePort, 1), "Sharing the UDP port between queues (SO_REUSEPORT)");
            }

            // The first socket may pick the port (port 0); the others join it.
            int wanted = port != 0 ? port : endpoint.Port;
            byte* address = stackalloc byte[16];
            new Span<byte>(address, 16).Clear();
            *(ushort*)address = AfInet;
            *(ushort*)(address + 2) = BinaryPrimitives.ReverseEndianness((ushort)wanted);
            endpoint.Address.TryWriteBytes(new Span<byte>(address + 4, 4), out _);
            Require(LinuxSyscalls.Bind(fd, address, 16), $"Binding a UDP socket to {endpoint.Address}:{wanted}");
            uint length = 16;
            Require(LinuxSyscalls.GetSocketName(fd, address, &length), "Reading the bound UDP port");
            port = BinaryPrimitives.ReverseEndianness(*(ushort*)(address + 2));
            return fd;
        }
        catch
        {
            LinuxSyscalls.Close(fd);
            throw;
        }
    }

    private static void Require(int result, string what)
    {
        if (result < 0)
        {
            throw new DeviceBindException($"{what} failed: {Errno.Describe(-result)}.");
        }
    }
}

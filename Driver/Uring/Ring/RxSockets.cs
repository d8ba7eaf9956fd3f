using System.Buffers.Binary;
using System.Net;
using Netmem.Driver.Devices;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// Opens the sockets that play the NIC's RX queues: one per queue, spread like RSS (a PACKET_FANOUT hash group for
/// AF_PACKET, SO_REUSEPORT for UDP). Refusals become <see cref="DeviceBindException"/> in words.
/// </summary>
/// <remarks>
/// <b>The fanout group id is the kernel's.</b> Fanout groups are named by a 16-bit id per network namespace, and
/// any packet socket on the interface that names the same id with the same mode joins the group and takes a share
/// of its frames; one with another mode makes the join fail. An id the device made up (a hash of the pid and a
/// counter) can be guessed or simply taken already. So the first queue's socket asks the kernel for a fresh id
/// (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.20+: the kernel picks an id no group uses), reads it back with getsockopt
/// and the other queues join it; the flag only applies to the group's creation, so they join without it.
/// </remarks>
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
    private const int PacketFanoutFlagUniqueId = 0x2000;
    private const int PacketFanoutFlagIgnoreOutgoing = 0x4000;

    /// <summary>Opens <paramref name="count"/> sockets for <paramref name="source"/>; returns their fds and, for UDP, the bound port.</summary>
    public static (FileDescriptorHandle[] Sockets, int BoundPort) Open(UringSource source, int count, int receiveBufferBytes)
    {
        var sockets = new List<FileDescriptorHandle>(count);
        try
        {
            int port = 0;

            // −1: no fanout (one queue); 0: the first socket asks the kernel for a group id; then that id.
            int group = count > 1 ? 0 : -1;
            for (int i = 0; i < count; i++)
            {
                int fd = source switch
                {
                    PacketSource packet => OpenPacket(packet.InterfaceName, ref group),
                    UdpSource udp => OpenUdp(udp.Endpoint, ref port, count > 1),
                    _ => throw new DeviceBindException("Unknown packet source."),
                };
                sockets.Add(new FileDescriptorHandle(fd));
                if (receiveBufferBytes > 0 && LinuxSyscalls.SetSocketOption(fd, SolSocket, SoRcvBufForce, receiveBufferBytes) < 0)
                {
                    LinuxSyscalls.SetSocketOption(fd, SolSocket, SoRcvBuf, receiveBufferBytes);
                }
            }

            return (sockets.ToArray(), port);
        }
        catch
        {
            CloseAll(sockets);
            throw;
        }
    }

    public static void CloseAll(IEnumerable<FileDescriptorHandle> sockets)
    {
        foreach (FileDescriptorHandle socket in sockets)
        {
            socket.Dispose();
        }
    }

    private static int OpenPacket(string interfaceName, ref int fanoutGroup)
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
                if (fanoutGroup == 0)
                {
                    Require(LinuxSyscalls.SetSocketOption(fd, SolPacket, PacketFanout, (typeAndFlags | PacketFanoutFlagUniqueId) << 16), "Creating a packet fanout group with an id the kernel picks (PACKET_FANOUT, hash, unique id, ignoring outgoing frames)");
                    Require(LinuxSyscalls.GetSocketOption(fd, SolPacket, PacketFanout, out int joined), "Reading the packet fanout group's id");
                    fanoutGroup = joined & 0xFFFF;
                }
                else
                {
                    Require(LinuxSyscalls.SetSocketOption(fd, SolPacket, PacketFanout, fanoutGroup | (typeAndFlags << 16)), $"Joining packet fanout group {fanoutGroup} (PACKET_FANOUT, hash, ignoring outgoing frames)");
                }
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

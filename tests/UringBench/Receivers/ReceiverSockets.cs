using System.Net;
using System.Net.Sockets;

namespace Netmem.UringBench.Receivers;

/// <summary>The UDP socket every .NET loop receives on: the same receive buffer as the io_uring device's sockets.</summary>
internal static class ReceiverSockets
{
    public const int ReceiveBufferBytes = 4 << 20;

    public static Socket OpenUdp(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = ReceiveBufferBytes };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>The stop signal of the io_uring anchors, whose loops wait in the kernel: a 1-byte datagram (the benchmark's are 64).</summary>
    public static void SendStop(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SendTo(new byte[1], new IPEndPoint(IPAddress.Loopback, port));
    }
}

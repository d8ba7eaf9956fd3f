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
}

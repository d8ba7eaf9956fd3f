using System.Net;

namespace Netmem.Uring;

/// <summary>Where an io_uring device's packets come from.</summary>
public abstract record UringSource
{
    private protected UringSource()
    {
    }

    /// <summary>
    /// Whole Ethernet frames from a network interface through an AF_PACKET raw socket (every protocol), one socket
    /// per RX queue in a PACKET_FANOUT hash group. Needs CAP_NET_RAW.
    /// </summary>
    public static UringSource Packet(string interfaceName) => new PacketSource(interfaceName);

    /// <summary>
    /// UDP payloads sent to an IPv4 address and port, one socket per RX queue sharing the port with SO_REUSEPORT.
    /// Port 0 picks a free port (see <see cref="UringBinding.BoundPort"/>). The kernel hands over payloads without
    /// headers, so the device declares them as the payloads of one flow (<see cref="UringBinding.FrameFormat"/>) and
    /// the stack delivers them to the consumer of that flow without parsing.
    /// </summary>
    public static UringSource Udp(IPEndPoint endpoint) => new UdpSource(endpoint);
}

/// <summary>Whole frames from the interface <paramref name="InterfaceName"/> (AF_PACKET, ETH_P_ALL).</summary>
public sealed record PacketSource(string InterfaceName) : UringSource;

/// <summary>UDP payloads sent to <paramref name="Endpoint"/> (IPv4).</summary>
public sealed record UdpSource(IPEndPoint Endpoint) : UringSource;

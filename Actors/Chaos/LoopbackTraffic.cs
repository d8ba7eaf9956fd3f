using System.Net;
using System.Net.Sockets;
using Netmem.Stack.Parsing;
using Netmem.Uring.Traffic;

namespace Netmem.Chaos;

/// <summary>
/// The real traffic of an io_uring chaos run: UDP datagrams over loopback from a <see cref="UdpTrafficGenerator"/>,
/// which the devices capture on <c>lo</c> (AF_PACKET: whole frames with zeroed Ethernet headers, which the stack
/// parses). One flow per consumer plus one no socket is bound to (the "no socket" drops), all to one sink port.
/// </summary>
/// <remarks>
/// A consumer's flow is a full 5-tuple, source port included, and it must be bound before the first datagram leaves,
/// so the ports are chosen up front: free ports found by binding and closing a socket each, then handed to the
/// generator. The sink socket keeps the destination port open so that no ICMP port-unreachable answers each datagram
/// (it is never read; once its buffer is full the kernel drops there, after the capture has seen the frame).
/// </remarks>
public sealed class LoopbackTraffic : IDisposable
{
    private const int PayloadBytes = 64;

    private readonly Socket _sink;
    private readonly int[] _sourcePorts;

    public LoopbackTraffic(int consumers)
    {
        _sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        TargetPort = ((IPEndPoint)_sink.LocalEndPoint!).Port;
        Socket[] probes = Enumerable.Range(0, consumers + 1).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)).ToArray();
        try
        {
            foreach (Socket probe in probes)
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            _sourcePorts = probes.Select(p => ((IPEndPoint)p.LocalEndPoint!).Port).ToArray();
        }
        finally
        {
            foreach (Socket probe in probes)
            {
                probe.Dispose();
            }
        }
    }

    /// <summary>The port every datagram goes to.</summary>
    public int TargetPort { get; }

    /// <summary>Consumer <paramref name="consumer"/>'s flow: from its own source port to the sink, on 127.0.0.1.</summary>
    public IReadOnlyList<FlowKey> ForConsumer(int consumer) => [FlowOf(_sourcePorts[consumer])];

    /// <summary>Sends at <paramref name="packetsPerSecond"/> over every flow in turn until cancelled or the time is up.</summary>
    public Task<UdpTrafficReport> RunAsync(double packetsPerSecond, TimeSpan maxDuration, CancellationToken cancellationToken) =>
        new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, TargetPort),
            Flows = _sourcePorts.Length,
            SourcePorts = _sourcePorts,
            Count = (long)Math.Ceiling(packetsPerSecond * maxDuration.TotalSeconds) + 1,
            PacketsPerSecond = packetsPerSecond,
            PayloadBytes = PayloadBytes,
            MaxDuration = maxDuration,
        }).RunAsync(cancellationToken);

    public void Dispose() => _sink.Dispose();

    private FlowKey FlowOf(int sourcePort) => new(
        IpAddress.FromIPv4(0x7F00_0001u), IpAddress.FromIPv4(0x7F00_0001u), (ushort)sourcePort, (ushort)TargetPort, IpProtocol.Udp);
}

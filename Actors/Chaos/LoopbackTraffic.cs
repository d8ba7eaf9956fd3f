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
/// so the ports are chosen up front: a run of consecutive free ports (the generator's flows send from consecutive
/// ports), found by binding and closing a socket on each, then handed to the generator. The sink socket keeps the destination port open so that no ICMP port-unreachable answers each datagram
/// (it is never read; once its buffer is full the kernel drops there, after the capture has seen the frame).
/// </remarks>
internal sealed class LoopbackTraffic : IDisposable
{
    private const int PayloadBytes = 64;

    private const int PortSearchAttempts = 64;

    private readonly Socket _sink;
    private readonly int _firstSourcePort;
    private readonly int _flows;

    public LoopbackTraffic(int consumers)
    {
        _sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        TargetPort = ((IPEndPoint)_sink.LocalEndPoint!).Port;
        _firstSourcePort = FindFreePorts(consumers + 1);
        _flows = consumers + 1;
    }

    /// <summary>The port every datagram goes to.</summary>
    public int TargetPort { get; }

    /// <summary>Consumer <paramref name="consumer"/>'s flow: from its own source port to the sink, on 127.0.0.1.</summary>
    public IReadOnlyList<FlowKey> ForConsumer(int consumer) => [FlowOf(_firstSourcePort + consumer)];

    /// <summary>Sends at <paramref name="packetsPerSecond"/> over every flow in turn until cancelled or the time is up.</summary>
    public Task<UdpTrafficReport> RunAsync(double packetsPerSecond, TimeSpan maxDuration, CancellationToken cancellationToken) =>
        new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, TargetPort),
            Flows = _flows,
            FirstSourcePort = _firstSourcePort,
            Count = (long)Math.Ceiling(packetsPerSecond * maxDuration.TotalSeconds) + 1,
            PacketsPerSecond = packetsPerSecond,
            PayloadBytes = PayloadBytes,
            MaxDuration = maxDuration,
        }).RunAsync(cancellationToken);

    public void Dispose() => _sink.Dispose();

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free ports on 127.0.0.1 (the generator sends flow f from the
    /// first port + f): a free port the system picks, then the ones after it, each bound to prove it free and closed
    /// again; a run of ports that is not all free is retried from another start.
    /// </summary>
    private static int FindFreePorts(int count)
    {
        for (int attempt = 0; attempt < PortSearchAttempts; attempt++)
        {
            var probes = new List<Socket>();
            try
            {
                Socket first = Probe(0)!;
                probes.Add(first);
                int start = ((IPEndPoint)first.LocalEndPoint!).Port;
                if (start + count - 1 > ushort.MaxValue)
                {
                    continue;
                }

                for (int port = start + 1; port < start + count && Probe(port) is { } next; port++)
                {
                    probes.Add(next);
                }

                if (probes.Count == count)
                {
                    return start;
                }
            }
            finally
            {
                probes.ForEach(p => p.Dispose());
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free UDP ports on 127.0.0.1 were found for the traffic flows.");
    }

    private static Socket? Probe(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    private FlowKey FlowOf(int sourcePort) => new(
        IpAddress.FromIPv4(0x7F00_0001u), IpAddress.FromIPv4(0x7F00_0001u), (ushort)sourcePort, (ushort)TargetPort, IpProtocol.Udp);
}

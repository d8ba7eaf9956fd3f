using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Netmem.Uring.Traffic;

/// <summary>
/// Sends real UDP datagrams on this machine (to loopback, or from a private network namespace such as one end of a
/// veth pair) at a chosen rate and flow mix, bounded in count and time,
/// so the io_uring device receives real packets from the kernel.
/// </summary>
/// <remarks>
/// Every payload is self-describing so a receiver can check each byte the kernel wrote: bytes 0..7 the sequence
/// number (little-endian, 0 to Count−1), bytes 8..9 the flow index, and every following byte i equals
/// <see cref="FillByte"/>(sequence, i).
/// </remarks>
public sealed class UdpTrafficGenerator
{
    /// <summary>Bytes of the sequence-and-flow header at the start of each payload.</summary>
    public const int HeaderBytes = 10;

    private readonly UdpTrafficOptions _options;

    /// <summary>Creates a generator for <paramref name="options"/>; it sends nothing until <see cref="Run"/>.</summary>
    public UdpTrafficGenerator(UdpTrafficOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The byte a payload carries at <paramref name="index"/> (≥ <see cref="HeaderBytes"/>).</summary>
    public static byte FillByte(long sequence, int index) => (byte)((sequence * 31) + (index * 7));

    /// <summary>
    /// Checks a received payload byte for byte; returns its sequence number, or −1 when any byte differs from what the
    /// generator sent.
    /// </summary>
    public static long Validate(ReadOnlySpan<byte> payload, int expectedLength)
    {
        if (payload.Length != expectedLength || payload.Length < HeaderBytes)
        {
            return -1;
        }

        long sequence = BinaryPrimitives.ReadInt64LittleEndian(payload);
        for (int i = HeaderBytes; i < payload.Length; i++)
        {
            if (payload[i] != FillByte(sequence, i))
            {
                return -1;
            }
        }

        return sequence;
    }

    /// <summary>Sends on a thread-pool thread; see <see cref="Run"/>.</summary>
    public Task<UdpTrafficReport> RunAsync(CancellationToken cancellationToken = default) =>
        Task.Run(() => Run(cancellationToken), cancellationToken);

    /// <summary>Sends until <see cref="UdpTrafficOptions.Count"/> datagrams went out, the duration ran out or <paramref name="cancellationToken"/> fired.</summary>
    public UdpTrafficReport Run(CancellationToken cancellationToken = default) =>
        _options.NetworkNamespace is { } ns
            ? PrivateNetworkNamespace.Run(ns, () => RunHere(cancellationToken))
            : RunHere(cancellationToken);

    private UdpTrafficReport RunHere(CancellationToken cancellationToken)
    {
        var sockets = new Socket[_options.Flows];
        try
        {
            var ports = new int[sockets.Length];
            for (int f = 0; f < sockets.Length; f++)
            {
                sockets[f] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sockets[f].Bind(new IPEndPoint(IPAddress.IsLoopback(_options.Target.Address) ? IPAddress.Loopback : IPAddress.Any, _options.FirstSourcePort + f ?? 0));
                ports[f] = ((IPEndPoint)sockets[f].LocalEndPoint!).Port;
            }

            var payload = new byte[_options.PayloadBytes];
            var clock = Stopwatch.StartNew();
            long sent = 0, errors = 0;
            for (long sequence = 0; sequence < _options.Count; sequence++)
            {
                if (cancellationToken.IsCancellationRequested || clock.Elapsed >= _options.MaxDuration)
                {
                    break;
                }

                PaceTo(sequence, clock);
                int flow = (int)(sequence % sockets.Length);
                Fill(payload, sequence, flow);
                try
                {
                    // Unconnected sends: an ICMP port-unreachable from a receiver nobody listens on (an AF_PACKET
                    // capture) must not fail the next send the way it would on a connected socket.
                    sockets[flow].SendTo(payload, _options.Target);
                    sent++;
                }
                catch (SocketException)
                {
                    errors++;
                }
            }

            return new UdpTrafficReport(sent, errors, clock.Elapsed, ports);
        }
        finally
        {
            foreach (Socket? socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }

    private void PaceTo(long sequence, Stopwatch clock)
    {
        if (_options.PacketsPerSecond <= 0)
        {
            return;
        }

        // Token pacing against the start: datagram n leaves no earlier than n / rate seconds into the run.
        double due = sequence / _options.PacketsPerSecond;
        while (clock.Elapsed.TotalSeconds < due && clock.Elapsed < _options.MaxDuration)
        {
            double ahead = due - clock.Elapsed.TotalSeconds;
            if (ahead > 0.002)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(64);
            }
        }
    }

    private static void Fill(byte[] payload, long sequence, int flow)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(8), (ushort)flow);
        for (int i = HeaderBytes; i < payload.Length; i++)
        {
            payload[i] = FillByte(sequence, i);
        }
    }
}

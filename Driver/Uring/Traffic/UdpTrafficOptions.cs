using System.Net;

namespace Netmem.Uring.Traffic;

/// <summary>What a <see cref="UdpTrafficGenerator"/> sends: to whom, how much, how fast, from how many flows.</summary>
public sealed record UdpTrafficOptions
{
    /// <summary>
    /// Where the datagrams go: a loopback address, or any address when <see cref="NetworkNamespace"/> names a private
    /// namespace (the generator never sends onto a real network).
    /// </summary>
    public required IPEndPoint Target { get; init; }

    /// <summary>
    /// A private network namespace to send from (/var/run/netns/NAME or /proc/PID/ns/net), such as one end of a veth
    /// pair a test created; null sends from this thread's namespace, to loopback only.
    /// </summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Datagrams to send in all. Default 1000.</summary>
    public long Count { get; init; } = 1000;

    /// <summary>Datagrams per second across all flows; 0 sends as fast as the sockets take them. Default 0.</summary>
    public double PacketsPerSecond { get; init; }

    /// <summary>Flows: each is its own socket with its own source port, sending in turn. Default 4.</summary>
    public int Flows { get; init; } = 4;

    /// <summary>
    /// The source port of flow 0 (flow f sends from this port + f), so a receiver can name the flows before any
    /// datagram leaves; null binds each flow to a port the system picks (see <see cref="UdpTrafficReport.SourcePorts"/>).
    /// </summary>
    public int? FirstSourcePort { get; init; }

    /// <summary>Bytes in each datagram, at least <see cref="UdpTrafficGenerator.HeaderBytes"/>. Default 64.</summary>
    public int PayloadBytes { get; init; } = 64;

    /// <summary>The longest a run may take; it stops early when this passes. Default 30 s.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Target);
        if (!IPAddress.IsLoopback(Target.Address) && NetworkNamespace is null)
        {
            throw new ArgumentException($"The traffic generator sends only to loopback addresses, or from a private network namespace; {Target.Address} is neither.", nameof(Target));
        }

        if (Count < 0 || Flows < 1 || Flows > 1024 || PacketsPerSecond < 0 || MaxDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Count), "Count and rate must not be negative, flows must be 1 to 1024 and the duration positive.");
        }

        if (FirstSourcePort is { } first && (first < 1 || first + Flows - 1 > ushort.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(FirstSourcePort), FirstSourcePort, "The flows' source ports must lie from 1 to 65535.");
        }

        if (PayloadBytes < UdpTrafficGenerator.HeaderBytes || PayloadBytes > 65507)
        {
            throw new ArgumentOutOfRangeException(nameof(PayloadBytes), PayloadBytes, $"A payload is {UdpTrafficGenerator.HeaderBytes} to 65507 bytes.");
        }
    }
}

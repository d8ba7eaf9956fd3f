namespace Netmem.Stack.Parsing;

/// <summary>
/// The 5-tuple that names a transport flow: what a receiving stack demultiplexes on. Direction matters:
/// <see cref="Source"/> is the sender of the packet the key was taken from; <see cref="Reversed"/> gives the reply's key.
/// </summary>
public readonly struct FlowKey : IEquatable<FlowKey>
{
    /// <summary>A key for packets sent from <paramref name="source"/>:<paramref name="sourcePort"/> to <paramref name="destination"/>:<paramref name="destinationPort"/> over <paramref name="protocol"/>.</summary>
    public FlowKey(IpAddress source, IpAddress destination, ushort sourcePort, ushort destinationPort, IpProtocol protocol)
    {
        Source = source;
        Destination = destination;
        SourcePort = sourcePort;
        DestinationPort = destinationPort;
        Protocol = protocol;
    }

    /// <summary>The sender's address.</summary>
    public IpAddress Source { get; }

    /// <summary>The receiver's address: the local side for a received packet.</summary>
    public IpAddress Destination { get; }

    /// <summary>The sender's port.</summary>
    public ushort SourcePort { get; }

    /// <summary>The receiver's port: the local port a socket binds for a received packet.</summary>
    public ushort DestinationPort { get; }

    /// <summary>The transport protocol (TCP or UDP for a flow that carries ports).</summary>
    public IpProtocol Protocol { get; }

    /// <summary>True when both addresses are IPv4.</summary>
    public bool IsIPv4 => Source.IsIPv4 && Destination.IsIPv4;

    /// <summary>The key of the opposite direction.</summary>
    public FlowKey Reversed => new(Destination, Source, DestinationPort, SourcePort, Protocol);

    /// <summary>True when both keys name the same flow in the same direction.</summary>
    public static bool operator ==(FlowKey left, FlowKey right) => left.Equals(right);

    /// <summary>True when the keys differ in any of the five fields.</summary>
    public static bool operator !=(FlowKey left, FlowKey right) => !left.Equals(right);

    /// <summary>True when all five fields are equal; a key and its <see cref="Reversed"/> are not equal.</summary>
    public bool Equals(FlowKey other) =>
        Source.Equals(other.Source)
        && Destination.Equals(other.Destination)
        && SourcePort == other.SourcePort
        && DestinationPort == other.DestinationPort
        && Protocol == other.Protocol;

    /// <summary>True when <paramref name="obj"/> is a <see cref="FlowKey"/> with the same five fields.</summary>
    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    /// <summary>
    /// <see cref="HashCode"/> mixes every word with a per-process random seed, so crafted tuples cannot aim at one
    /// dictionary bucket, and flows that differ only in a port or in the low address bits still spread.
    /// </summary>
    public override int GetHashCode() =>
        HashCode.Combine(Source.Upper, Source.Lower, Destination.Upper, Destination.Lower, ((uint)SourcePort << 16) | DestinationPort, (byte)Protocol);

    /// <summary>The flow for logs, e.g. <c>Udp 10.0.0.1:5000 -> 10.0.0.2:53</c> (IPv6 addresses in brackets).</summary>
    public override string ToString() => $"{Protocol} {Endpoint(Source, SourcePort)} -> {Endpoint(Destination, DestinationPort)}";

    private static string Endpoint(IpAddress address, ushort port) => address.IsIPv4 ? $"{address}:{port}" : $"[{address}]:{port}";
}

namespace Netmem.Stack.Parsing;

/// <summary>
/// The 5-tuple that names a transport flow: what a receiving stack demultiplexes on. Direction matters:
/// <see cref="Source"/> is the sender of the packet the key was taken from; <see cref="Reversed"/> gives the reply's key.
/// </summary>
public readonly struct FlowKey : IEquatable<FlowKey>
{
    public FlowKey(IpAddress source, IpAddress destination, ushort sourcePort, ushort destinationPort, IpProtocol protocol)
    {
        Source = source;
        Destination = destination;
        SourcePort = sourcePort;
        DestinationPort = destinationPort;
        Protocol = protocol;
    }

    public IpAddress Source { get; }

    public IpAddress Destination { get; }

    public ushort SourcePort { get; }

    public ushort DestinationPort { get; }

    public IpProtocol Protocol { get; }

    /// <summary>True when both addresses are IPv4.</summary>
    public bool IsIPv4 => Source.IsIPv4 && Destination.IsIPv4;

    /// <summary>The key of the opposite direction.</summary>
    public FlowKey Reversed => new(Destination, Source, DestinationPort, SourcePort, Protocol);

    public static bool operator ==(FlowKey left, FlowKey right) => left.Equals(right);

    public static bool operator !=(FlowKey left, FlowKey right) => !left.Equals(right);

    public bool Equals(FlowKey other) =>
        Source.Equals(other.Source)
        && Destination.Equals(other.Destination)
        && SourcePort == other.SourcePort
        && DestinationPort == other.DestinationPort
        && Protocol == other.Protocol;

    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    /// <summary>
    /// <see cref="HashCode"/> mixes every word with a per-process random seed, so crafted tuples cannot aim at one
    /// dictionary bucket, and flows that differ only in a port or in the low address bits still spread.
    /// </summary>
    public override int GetHashCode() =>
        HashCode.Combine(Source.Upper, Source.Lower, Destination.Upper, Destination.Lower, ((uint)SourcePort << 16) | DestinationPort, (byte)Protocol);

    public override string ToString() => $"{Protocol} {Endpoint(Source, SourcePort)} -> {Endpoint(Destination, DestinationPort)}";

    private static string Endpoint(IpAddress address, ushort port) => address.IsIPv4 ? $"{address}:{port}" : $"[{address}]:{port}";
}

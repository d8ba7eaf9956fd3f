namespace Netmem.Chaos;

/// <summary>One reading of a <c>receive</c> run, for its live display.</summary>
/// <param name="State">The device's state in words (bound, unbinding, unbound).</param>
/// <param name="KernelPackets">Packets the kernel wrote into pool pages so far.</param>
/// <param name="Delivered">Packets the consumer read (and released at once).</param>
/// <param name="Dropped">Packets dropped so far, by reason.</param>
/// <param name="Inflight">Pages the device's pools have lent now (ring, sockets and consumer).</param>
/// <param name="Unbinds">Unbinds done (0 until the stop).</param>
internal sealed record ReceiveProgress(
    TimeSpan Elapsed,
    string State,
    double PacketsPerSecond,
    long KernelPackets,
    long Delivered,
    IReadOnlyDictionary<string, long> Dropped,
    long Inflight,
    long Unbinds);

using Netmem.Stack.Parsing;

namespace Netmem.Chaos;

/// <summary>
/// The flows of a run: two per consumer (UDP over IPv4, TCP over IPv6), plus one flow no socket is bound to, so
/// "no socket" drops happen too.
/// </summary>
internal static class ChaosFlows
{
    public static IReadOnlyList<FlowKey> ForConsumer(int consumer) =>
    [
        new FlowKey(IpAddress.FromIPv4(0x0A00_0000u | (uint)consumer), IpAddress.FromIPv4(0x0AFF_0001u), (ushort)(10_000 + consumer), 7_000, IpProtocol.Udp),
        new FlowKey(new IpAddress(0xFD00_0000_0000_0000UL, (ulong)consumer + 1), new IpAddress(0xFD00_0000_0000_0000UL, 0xFFFF), (ushort)(20_000 + consumer), 443, IpProtocol.Tcp),
    ];

    public static FlowKey Unbound { get; } =
        new(IpAddress.FromIPv4(0xC0A8_0001u), IpAddress.FromIPv4(0xC0A8_0002u), 9, 9, IpProtocol.Udp);

    /// <summary>What the wire carries: every consumer's flows and the unbound flow.</summary>
    public static IReadOnlyList<FlowKey> OnTheWire(int consumers) =>
        [.. Enumerable.Range(0, consumers).SelectMany(ForConsumer), Unbound];
}

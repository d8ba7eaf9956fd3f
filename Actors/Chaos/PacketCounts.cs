namespace Netmem.Chaos;

/// <summary>
/// Where every received packet ended: delivered to an application, or dropped for a named reason. The counts are
/// taken from different places (driver, demultiplexer, sockets, consumers), so their adding up is a real check.
/// </summary>
/// <param name="Received">Frames the drivers DMA'd into pages and handed to the stack.</param>
/// <param name="Delivered">Packets applications read from their sockets.</param>
/// <param name="DroppedByReason">Packets dropped (their pages returned), by reason.</param>
internal sealed record PacketCounts(long Received, long Delivered, IReadOnlyDictionary<string, long> DroppedByReason)
{
    public long Dropped => DroppedByReason.Values.Sum();

    /// <summary>Received − delivered − dropped: packets whose fate nobody reported (0 when the counts add up).</summary>
    public long Unaccounted => Received - Delivered - Dropped;

    public bool AddsUp => Unaccounted == 0;
}

namespace Netmem.Simulation.Traffic;

/// <summary>
/// The wire side of one RX queue: the frames that arrive at the NIC. The driver asks for one frame per free RX
/// descriptor, from its poll loop only, so an implementation needs no locking.
/// </summary>
public interface ITrafficSource
{
    /// <summary>
    /// Writes the next frame that has arrived into <paramref name="destination"/> (the posted page the NIC's DMA
    /// writes into, or memory that goes nowhere when the IOMMU refuses that write) and returns true, or returns false,
    /// writing nothing, when no frame is due yet.
    /// </summary>
    bool TryReceive(Span<byte> destination, out int length);

    /// <summary>The driver is quiescing: the queue's RX engine stops and no frame is asked for again.</summary>
    void Stop();
}

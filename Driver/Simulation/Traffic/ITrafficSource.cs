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

    /// <summary>
    /// Connects the wire's interrupt line: from now on the source calls <paramref name="raise"/> (from any thread)
    /// when a frame arrives, as <see cref="CheckArrival"/> describes. False (the default): the source has no such
    /// line, and the driver polls its queue on a timer.
    /// </summary>
    bool ConnectInterrupt(Action raise) => false;

    /// <summary>
    /// Whether a frame has arrived that <see cref="TryReceive"/> would hand out now. When none has, the source makes
    /// sure the connected raise is called once one arrives (after it is where <see cref="TryReceive"/> finds it). Asked
    /// only of a source whose interrupt is connected, from the driver's poll loop, right after the driver armed.
    /// </summary>
    bool CheckArrival() => true;
}

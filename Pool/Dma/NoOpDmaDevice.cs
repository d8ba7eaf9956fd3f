namespace Netmem.Pool.Dma;

/// <summary>
/// A device without an IOMMU: the bus address is the host address and syncs are unnecessary.
/// It checks nothing; it is the baseline that shows the pool's own cost without the strict model's bookkeeping.
/// </summary>
public sealed class NoOpDmaDevice : IDmaDevice
{
    /// <inheritdoc/>
    public string Name => "noop";

    /// <inheritdoc/>
    public bool NeedsSync => false;

    /// <inheritdoc/>
    public ulong Map(DmaBuffer buffer, DmaDirection direction) =>
        buffer.HostAddress != 0 ? (ulong)buffer.HostAddress : buffer.PageId + 1;

    /// <inheritdoc/>
    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
    }

    /// <inheritdoc/>
    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
    }

    /// <inheritdoc/>
    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
    }
}

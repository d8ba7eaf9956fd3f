using Netmem.Pool.Dma;

namespace Netmem.Pool.Tests.Dma;

/// <summary>
/// Passes every call to an inner device, but each sync for the device spins for a while first: a returner that read
/// the pool active is then still inside the device when destroy drains the ring, and pushes its page after the drain.
/// </summary>
internal sealed class SlowSyncDevice(IDmaDevice inner) : IDmaDevice
{
    public string Name => inner.Name;

    public bool NeedsSync => true;

    public ulong Map(DmaBuffer buffer, DmaDirection direction) => inner.Map(buffer, direction);

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction) => inner.Unmap(dmaAddress, length, direction);

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        Thread.SpinWait(3000);
        inner.SyncForDevice(dmaAddress, offset, length, direction);
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        inner.SyncForCpu(dmaAddress, offset, length, direction);
}

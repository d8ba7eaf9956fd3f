using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Pool.Tests.Dma;

/// <summary>A device whose sync for device always fails, to show a fresh mapping is undone when its first sync fails.</summary>
internal sealed class SyncFailingDevice(IommuModel inner) : IDmaDevice
{
    public string Name => inner.Name;

    public bool NeedsSync => true;

    public ulong Map(DmaBuffer buffer, DmaDirection direction) => inner.Map(buffer, direction);

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction) => inner.Unmap(dmaAddress, length, direction);

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        throw new InvalidOperationException("sync for device failed");

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        inner.SyncForCpu(dmaAddress, offset, length, direction);
}

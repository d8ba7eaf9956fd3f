using Netmem.Pool.Dma;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>A queue's DMA API with the <see cref="DmaOracle"/> in front: every address the device hands out is tracked.</summary>
internal sealed class RecordingDmaDevice(IDmaDevice inner, DmaOracle oracle) : IDmaDevice
{
    public string Name => inner.Name;

    public bool NeedsSync => inner.NeedsSync;

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        using DmaOracle.CallScope call = oracle.Enter("map");
        ulong address = inner.Map(buffer, direction);
        oracle.OnMapped(address);
        return address;
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        using DmaOracle.CallScope call = oracle.Enter("unmap");
        oracle.OnUnmapping(dmaAddress);
        inner.Unmap(dmaAddress, length, direction);
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        using DmaOracle.CallScope call = oracle.Enter("sync for device");
        oracle.OnSync(dmaAddress, "device");
        inner.SyncForDevice(dmaAddress, offset, length, direction);
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        using DmaOracle.CallScope call = oracle.Enter("sync for cpu");
        oracle.OnSync(dmaAddress, "cpu");
        inner.SyncForCpu(dmaAddress, offset, length, direction);
    }
}

using Netmem.Pool.Dma;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken, in front of any device: every tenth unmap is issued twice.</summary>
internal sealed class UnmapTwiceDecorator(IDmaDevice inner) : IDmaDevice
{
    private long _unmaps;

    public string Name => inner.Name;

    public bool NeedsSync => inner.NeedsSync;

    public ulong Map(DmaBuffer buffer, DmaDirection direction) => inner.Map(buffer, direction);

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        inner.Unmap(dmaAddress, length, direction);
        if (Interlocked.Increment(ref _unmaps) % 10 == 0)
        {
            inner.Unmap(dmaAddress, length, direction);
        }
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) => inner.SyncForDevice(dmaAddress, offset, length, direction);

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) => inner.SyncForCpu(dmaAddress, offset, length, direction);
}

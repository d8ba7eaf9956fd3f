using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken: every other unmap is silently dropped, so those mappings outlive their pages.</summary>
internal sealed class UnmapDroppingDevice(IommuModel iommu) : PassThroughDevice(iommu)
{
    private long _unmaps;

    public override void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        if (Interlocked.Increment(ref _unmaps) % 2 == 0)
        {
            base.Unmap(dmaAddress, length, direction);
        }
    }
}

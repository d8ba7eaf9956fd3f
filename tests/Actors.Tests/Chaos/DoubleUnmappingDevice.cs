using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken: every tenth unmap is issued twice.</summary>
internal sealed class DoubleUnmappingDevice(IommuModel iommu) : PassThroughDevice(iommu)
{
    private long _unmaps;

    public override void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        base.Unmap(dmaAddress, length, direction);
        if (Interlocked.Increment(ref _unmaps) % 10 == 0)
        {
            base.Unmap(dmaAddress, length, direction);
        }
    }
}

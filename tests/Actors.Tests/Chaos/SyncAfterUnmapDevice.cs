using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken driver glue: syncs a buffer for the CPU after unmapping it.</summary>
internal sealed class SyncAfterUnmapDevice(IommuModel iommu) : PassThroughDevice(iommu)
{
    public override void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        base.Unmap(dmaAddress, length, direction);
        Iommu.SyncForCpu(dmaAddress, 0, length, direction);
    }
}

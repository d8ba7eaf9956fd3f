using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken hardware: after a buffer is unmapped, the device still writes one more byte into it.</summary>
internal sealed class DmaAfterUnmapDevice(IommuModel iommu) : PassThroughDevice(iommu)
{
    public override void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        base.Unmap(dmaAddress, length, direction);
        Iommu.DmaWrite(dmaAddress, 0, [0xEE]);
    }
}

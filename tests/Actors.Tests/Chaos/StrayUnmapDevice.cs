using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken: with its first unmap it also unmaps an address it never mapped.</summary>
internal sealed class StrayUnmapDevice(IommuModel iommu) : PassThroughDevice(iommu)
{
    private const ulong NeverMapped = 0x42;

    private int _strayed;

    public override void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        base.Unmap(dmaAddress, length, direction);
        if (Interlocked.Exchange(ref _strayed, 1) == 0)
        {
            base.Unmap(NeverMapped, length, direction);
        }
    }
}

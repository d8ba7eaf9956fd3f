using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Broken: its first unmap passes on another length or another direction than the page was mapped with.</summary>
internal sealed class MismatchedUnmapDevice(IommuModel iommu, bool wrongLength) : PassThroughDevice(iommu)
{
    private int _mismatched;

    public override void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        if (Interlocked.Exchange(ref _mismatched, 1) != 0)
        {
            base.Unmap(dmaAddress, length, direction);
        }
        else if (wrongLength)
        {
            base.Unmap(dmaAddress, length / 2, direction);
        }
        else
        {
            base.Unmap(dmaAddress, length, direction == DmaDirection.FromDevice ? DmaDirection.Bidirectional : DmaDirection.FromDevice);
        }
    }
}

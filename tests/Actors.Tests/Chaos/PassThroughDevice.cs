using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>The base of the suite's deliberately broken devices: forwards every call to the IOMMU model.</summary>
internal abstract class PassThroughDevice(IommuModel iommu) : IDmaDevice
{
    protected IommuModel Iommu { get; } = iommu;

    public string Name => Iommu.Name;

    public bool NeedsSync => Iommu.NeedsSync;

    public virtual ulong Map(DmaBuffer buffer, DmaDirection direction) => Iommu.Map(buffer, direction);

    public virtual void Unmap(ulong dmaAddress, int length, DmaDirection direction) => Iommu.Unmap(dmaAddress, length, direction);

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        Iommu.SyncForDevice(dmaAddress, offset, length, direction);

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        Iommu.SyncForCpu(dmaAddress, offset, length, direction);
}

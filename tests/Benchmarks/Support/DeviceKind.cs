namespace Netmem.Benchmarks.Support;

/// <summary>The DMA device a case maps through: the no-op device (pool cost only) or the strict IOMMU model.</summary>
public enum DeviceKind
{
    NoOp,
    IommuModel,
}

namespace Netmem.Simulation;

/// <summary>The kinds of DMA API misuse the <see cref="IommuModel"/> detects.</summary>
public enum IommuViolationKind
{
    /// <summary>Unmap of an address that was never mapped.</summary>
    UnmapOfUnknownAddress,

    /// <summary>Unmap of an address that was mapped once and is already unmapped.</summary>
    DoubleUnmap,

    /// <summary>Any map, unmap or sync made while the device is unbound.</summary>
    CallAfterUnbind,

    /// <summary>The device wrote into an address with no live mapping.</summary>
    DmaToUnmappedAddress,

    /// <summary>A sync of an address with no live mapping.</summary>
    SyncOfUnmappedAddress,

    /// <summary>A mapping still live when the device was unbound.</summary>
    MappingLeakedAtUnbind,

    /// <summary>Unmap of a live mapping with another length than it was mapped with (the mapping still ends).</summary>
    UnmapLengthMismatch,

    /// <summary>Unmap of a live mapping with another direction than it was mapped with (the mapping still ends).</summary>
    UnmapDirectionMismatch,
}

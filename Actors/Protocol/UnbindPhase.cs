namespace Netmem.Actors.Protocol;

/// <summary>The phases of an unbind, in order.</summary>
public enum UnbindPhase
{
    /// <summary>The driver stops polling and allocating and returns its ring pages.</summary>
    Quiesce,

    /// <summary>Every pool of the device is destroyed: every page still held elsewhere is unmapped.</summary>
    DestroyPools,

    /// <summary>The device's IOMMU domain is torn down; a mapping still live here is a leak.</summary>
    TeardownIommu,
}

namespace Netmem.Actors.Protocol;

/// <summary>The phases of an unbind, in order.</summary>
public enum UnbindPhase
{
    /// <summary>The driver stops polling and allocating and returns its ring pages.</summary>
    Quiesce,

    /// <summary>Every pool of the device is destroyed: every page still held elsewhere is unmapped.</summary>
    DestroyPools,

    /// <summary>
    /// Only after a phase timed out: the pools' device access is revoked (mappings not yet unmapped are left to the
    /// domain teardown), and the unbind waits for every device call already running to return.
    /// </summary>
    RevokeDeviceAccess,

    /// <summary>The device's DMA domain is torn down; a mapping still live here that no pool revoked is a leak.</summary>
    TeardownDomain,
}

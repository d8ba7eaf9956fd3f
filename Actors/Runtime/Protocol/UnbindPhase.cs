namespace Netmem.Actors.Protocol;

/// <summary>
/// The phases of an unbind. They run in the order declared here; <see cref="CloseReceive"/> and
/// <see cref="RevokeDeviceAccess"/> run only after a timeout.
/// </summary>
public enum UnbindPhase
{
    /// <summary>The driver stops polling and allocating and returns its ring pages.</summary>
    Quiesce = 0,

    /// <summary>
    /// Only after the quiesce timed out: the supervisor closes every RX queue's receive side itself, each once a
    /// driver call still inside the device has returned, so the device writes no more into the posted pages before
    /// any of them is unmapped. A close that outlives its timeout is still waited for.
    /// </summary>
    CloseReceive = 4,

    /// <summary>Every pool of the device is destroyed: every page still held elsewhere is unmapped.</summary>
    DestroyPools = 1,

    /// <summary>
    /// Only after a phase timed out: the pools' device access is revoked (mappings not yet unmapped are left to the
    /// domain teardown), and the unbind waits for every device call already running to return.
    /// </summary>
    RevokeDeviceAccess = 2,

    /// <summary>The device's DMA domain is torn down; a mapping still live here that no pool revoked is a leak.</summary>
    TeardownDomain = 3,
}

namespace Netmem.Chaos;

/// <summary>The faults a chaos run injects, each at a seam outside the lock-free core.</summary>
internal enum FaultKind
{
    /// <summary>The device refuses a DMA map (IOVA space exhausted).</summary>
    DmaMapFailure,

    /// <summary>A DMA map is slow (a contended IOMMU).</summary>
    DmaMapLatency,

    /// <summary>The memory provider has no page for the pool.</summary>
    AllocationFailure,

    /// <summary>A consumer throws while it holds pages.</summary>
    ConsumerThrow,

    /// <summary>A consumer stalls, holding its pages far longer than usual.</summary>
    ConsumerStall,

    /// <summary>The driver crashes in the middle of a poll, with frames in hand.</summary>
    DriverCrash,

    /// <summary>A device is unbound (then rebound) at a random moment while traffic flows.</summary>
    UnbindUnderLoad,

    /// <summary>Pages held back by every consumer are all returned at the instant destroy runs.</summary>
    LateReturnStorm,

    /// <summary>A consumer returns a page twice, or uses or returns it after disposing its packet.</summary>
    ConsumerMisuse,

    /// <summary>For one unbind, every unmap the device makes is slow: destroy outlives its timeout and is revoked.</summary>
    SlowUnmap,

    /// <summary>For one unbind, every sync the device makes is slow.</summary>
    SlowSync,

    /// <summary>For one unbind, the domain teardown outlives its timeout (it hangs for a while, then returns).</summary>
    SlowTeardown,

    /// <summary>
    /// For one unbind, the driver's next reap stays inside the device past the quiesce timeout (a hung firmware call),
    /// then returns with the frames the device wrote meanwhile.
    /// </summary>
    DriverStuck,
}

using Netmem.Pool;

namespace Netmem.Actors.Protocol;

/// <summary>What an unbind did.</summary>
/// <param name="Device">The device.</param>
/// <param name="Generation">The bind this unbind ended (0 if the device was never bound).</param>
/// <param name="Pools">Each destroyed pool's report, by queue; a pool whose destroy did not answer is missing.</param>
/// <param name="RingPagesReturned">Pages the quiescing driver returned from its RX rings.</param>
/// <param name="InflightAtUnbind">Pages the pools were accountable for when their destroy started, their own caches and rings included (Σ inflight at destroy).</param>
/// <param name="UnmappedByDestroy">Pages held elsewhere that the destroys unmapped (Σ over pools).</param>
/// <param name="StillHeld">Pages still held elsewhere when the pools were destroyed; they come back as late returns.</param>
/// <param name="LeakedMappings">Mappings still live when the IOMMU domain was torn down (0 unless a phase failed).</param>
/// <param name="IommuViolations">Violations the IOMMU model recorded from this bind to the end of its teardown.</param>
/// <param name="Phases">Each phase that ran, in order.</param>
/// <param name="StartedAt">When the unbind started.</param>
/// <param name="Duration">From the first request to the reply.</param>
public sealed record UnbindReport(
    string Device,
    int Generation,
    IReadOnlyList<PagePoolDestroyReport> Pools,
    long RingPagesReturned,
    long InflightAtUnbind,
    long UnmappedByDestroy,
    long StillHeld,
    int LeakedMappings,
    int IommuViolations,
    IReadOnlyList<UnbindPhaseResult> Phases,
    DateTimeOffset StartedAt,
    TimeSpan Duration)
{
    /// <summary>The phases that did not answer within their timeout.</summary>
    public IReadOnlyList<UnbindPhase> TimedOutPhases => Phases.Where(p => p.Outcome == UnbindPhaseOutcome.TimedOut).Select(p => p.Phase).ToArray();

    /// <summary>Every phase reached its goal and the IOMMU model saw no violation and no leak.</summary>
    public bool IsClean =>
        Phases.All(p => p.Outcome is UnbindPhaseOutcome.Completed or UnbindPhaseOutcome.DriverStopped)
        && LeakedMappings == 0
        && IommuViolations == 0;

    /// <summary>The report of an unbind of a device that was never bound: nothing to do.</summary>
    public static UnbindReport NothingBound(string device) =>
        new(device, 0, [], 0, 0, 0, 0, 0, 0, [], DateTimeOffset.UtcNow, TimeSpan.Zero);
}

using Netmem.Pool;

namespace Netmem.Actors.Protocol;

/// <summary>What an unbind did.</summary>
/// <param name="Device">The device.</param>
/// <param name="Generation">The bind this unbind ended (0 if the device was never bound).</param>
/// <param name="Pools">Each destroyed pool's report, by queue.</param>
/// <param name="RingPagesReturned">Pages the quiescing driver took back from the device's receive sides.</param>
/// <param name="InflightAtUnbind">Pages the pools were accountable for when their destroy started, their own caches and rings included (Σ inflight at destroy).</param>
/// <param name="UnmappedByDestroy">Pages held elsewhere that the destroys unmapped one by one (Σ over pools).</param>
/// <param name="RevokedWithDomain">Pages whose mapping was left to the domain teardown because a phase timed out and the pools' device access was revoked: the pools' final count, as the teardown was told it (it may exceed the sum of the destroy reports by pages returned after a report was written).</param>
/// <param name="StillHeld">Pages still held elsewhere when the pools were destroyed; they come back as late returns and make no device call.</param>
/// <param name="LeakedMappings">Mappings still live at the domain teardown that no pool had revoked: each is a leak.</param>
/// <param name="DeviceViolations">Violations the device's own checks saw from this bind to the end of its teardown (0 for a device without checks).</param>
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
    long RevokedWithDomain,
    long StillHeld,
    long LeakedMappings,
    long DeviceViolations,
    IReadOnlyList<UnbindPhaseResult> Phases,
    DateTimeOffset StartedAt,
    TimeSpan Duration)
{
    /// <summary>The phases that did not answer within their timeout.</summary>
    public IReadOnlyList<UnbindPhase> TimedOutPhases => Phases.Where(p => p.Outcome == UnbindPhaseOutcome.TimedOut).Select(p => p.Phase).ToArray();

    /// <summary>Every phase reached its goal in time, nothing was revoked, and the device saw no violation and no leak.</summary>
    public bool IsClean =>
        Phases.All(p => p.Outcome is UnbindPhaseOutcome.Completed or UnbindPhaseOutcome.DriverStopped)
        && RevokedWithDomain == 0
        && LeakedMappings == 0
        && DeviceViolations == 0;

    /// <summary>The report of an unbind of a device that was never bound: nothing to do.</summary>
    public static UnbindReport NothingBound(string device) =>
        new(device, 0, [], 0, 0, 0, 0, 0, 0, 0, [], DateTimeOffset.UtcNow, TimeSpan.Zero);
}

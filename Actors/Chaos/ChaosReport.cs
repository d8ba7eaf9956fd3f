using Netmem.Pool.Misuse;

namespace Netmem.Chaos;

/// <summary>Everything a chaos run measured, and its verdict. Rendered as a table and as JSON.</summary>
internal sealed record ChaosReport
{
    public required ulong Seed { get; init; }

    /// <summary>How long traffic ran (the configured duration, unless the run was cancelled).</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>The whole run, start-up, shutdown and checks included.</summary>
    public required double WallSeconds { get; init; }

    /// <summary>The device the run bound: simulated or the kernel through io_uring.</summary>
    public ChaosDeviceKind Device { get; init; }

    public required int Devices { get; init; }

    public required int QueuesPerDevice { get; init; }

    public required int Consumers { get; init; }

    public required double FaultRate { get; init; }

    public required IReadOnlyList<FaultKind> EnabledFaults { get; init; }

    public required PacketCounts Packets { get; init; }

    /// <summary>Packets the kernel wrote into pool pages (io_uring runs only; null on the simulated device).</summary>
    public long? KernelPacketsReceived { get; init; }

    public required long Unbinds { get; init; }

    public required long Rebinds { get; init; }

    /// <summary>Pages inflight when each unbind destroyed its pools, summed over unbinds.</summary>
    public required long InflightAtUnbindSum { get; init; }

    /// <summary>The most pages inflight at any one unbind.</summary>
    public required long InflightAtUnbindMax { get; init; }

    public required long PagesUnmappedByDestroy { get; init; }

    /// <summary>Pages whose mapping was left to the domain teardown after a destroy outlived its timeout.</summary>
    public long PagesRevokedWithDomain { get; init; }

    /// <summary>Unbind phases that outlived their timeout (slow-device faults); each escalated without letting Unbound overtake the device.</summary>
    public long PhaseTimeouts { get; init; }

    public required long LateReturns { get; init; }

    public required long ConsumerCrashes { get; init; }

    public required long StormReturns { get; init; }

    public required IReadOnlyDictionary<FaultKind, long> FaultsInjected { get; init; }

    public required IReadOnlyDictionary<MisuseKind, long> MisuseRejected { get; init; }

    public required ChaosViolations Violations { get; init; }

    /// <summary>Phases that did not finish in time, and other things the run could not do; they are not violations.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>Every injected fault, in a stable order: what two runs of one seed can be compared on.</summary>
    public required IReadOnlyList<InjectedFault> FaultLedger { get; init; }

    /// <summary>How many operations each fault stream decided on: the operation ids both runs of a seed reached.</summary>
    public required IReadOnlyDictionary<string, long> OperationsByStream { get; init; }

    /// <summary>The run was stopped before its time (Ctrl-C, SIGTERM); it still shut down, unbound and audited.</summary>
    public bool Cancelled { get; init; }

    public long TotalViolations => Violations.Total;

    /// <summary>
    /// What the run should have exercised and did not: no packet reached a consumer, or faults were on and no device
    /// was ever unbound (not even by the final shutdown). A run that exercised nothing proves nothing, so it cannot
    /// pass. Empty when the run did its job.
    /// </summary>
    public IReadOnlyList<string> NotExercised
    {
        get
        {
            var missing = new List<string>();
            if (KernelPacketsReceived == 0)
            {
                missing.Add("the kernel wrote no packet into a pool page");
            }

            if (Packets.Delivered == 0)
            {
                missing.Add($"no packet was delivered to a consumer ({Packets.Received:N0} received)");
            }

            if (EnabledFaults.Count > 0 && FaultRate > 0 && Unbinds == 0)
            {
                missing.Add("no device was unbound, although faults were on");
            }

            return missing;
        }
    }

    /// <summary>The verdict: a cancelled run is never a pass, whatever it found; then violations; then a run that exercised nothing.</summary>
    public ChaosVerdict Verdict => this switch
    {
        { Cancelled: true } => ChaosVerdict.Cancelled,
        { TotalViolations: > 0 } => ChaosVerdict.Violations,
        { NotExercised.Count: > 0 } => ChaosVerdict.NothingExercised,
        _ => ChaosVerdict.Passed,
    };

    public bool Passed => Verdict == ChaosVerdict.Passed;
}

/// <summary>How a chaos run ended (see <see cref="ChaosReport.Verdict"/>).</summary>
internal enum ChaosVerdict
{
    /// <summary>Full length, something exercised, no violation.</summary>
    Passed,

    /// <summary>At least one violation counter is not zero.</summary>
    Violations,

    /// <summary>No violation, but no packet delivered or (with faults on) no unbind: nothing was tested.</summary>
    NothingExercised,

    /// <summary>Stopped before its time by a signal; reported, never passed.</summary>
    Cancelled,
}

using Netmem.Pool.Misuse;

namespace Netmem.Chaos;

/// <summary>Everything a chaos run measured, and its verdict. Rendered as a table and as JSON.</summary>
public sealed record ChaosReport
{
    public required ulong Seed { get; init; }

    /// <summary>How long traffic ran (the configured duration, unless the run was cancelled).</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>The whole run, start-up, shutdown and checks included.</summary>
    public required double WallSeconds { get; init; }

    public required int Devices { get; init; }

    public required int QueuesPerDevice { get; init; }

    public required int Consumers { get; init; }

    public required double FaultRate { get; init; }

    public required IReadOnlyList<FaultKind> EnabledFaults { get; init; }

    public required PacketCounts Packets { get; init; }

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

    public long TotalViolations => Violations.Total;

    public bool Passed => TotalViolations == 0;
}

using Netmem.Chaos;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>Settings for the short chaos runs of the suite: a few seconds, a small topology, every fault on.</summary>
internal static class ChaosTestRuns
{
    public static ChaosSettings Short(ulong seed, double seconds = 2.5) => new()
    {
        Seed = seed,
        Duration = TimeSpan.FromSeconds(seconds),
        Devices = 2,
        QueuesPerDevice = 2,
        Consumers = 6,
        FaultRate = 0.02,
        FramesPerSecondPerQueue = 5_000,
        PhaseTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>A run with no injected fault: only the final shutdown unbinds, so a planted defect shows on its own.</summary>
    public static ChaosSettings Quiet(ulong seed = 1) => Short(seed, 1.0) with { EnabledFaults = new HashSet<FaultKind>() };

    /// <summary>The faults a run injected on the operations that both runs reached, in ledger order.</summary>
    public static IReadOnlyList<InjectedFault> OnOperationsBothReached(ChaosReport report, ChaosReport other) =>
        report.FaultLedger
            .Where(f => f.Sequence < Math.Min(report.OperationsByStream.GetValueOrDefault(f.Stream), other.OperationsByStream.GetValueOrDefault(f.Stream)))
            .ToArray();
}

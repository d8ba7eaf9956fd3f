namespace Netmem.Chaos;

/// <summary>A live reading of a run, for the progress display.</summary>
internal sealed record ChaosProgress(
    TimeSpan Elapsed,
    TimeSpan Duration,
    double PacketsPerSecond,
    long Received,
    long Inflight,
    long Unbinds,
    long FaultsInjected,
    long Violations,
    string Phase);

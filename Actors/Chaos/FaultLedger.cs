using System.Collections.Concurrent;

namespace Netmem.Chaos;

/// <summary>
/// Every fault a run injected, and every operation stream faults were decided on. Two runs of one seed can be
/// compared through it: on the operations both runs reached, they must have injected exactly the same faults.
/// </summary>
internal sealed class FaultLedger
{
    private readonly ConcurrentQueue<InjectedFault> _faults = new();
    private readonly ConcurrentDictionary<string, FaultStream> _streams = new();
    private readonly long[] _counts = new long[Enum.GetValues<FaultKind>().Length];

    /// <summary>The stream named <paramref name="name"/>, created on first use.</summary>
    public FaultStream Stream(string name) => _streams.GetOrAdd(name, static n => new FaultStream(n));

    public void Record(FaultKind kind, FaultStream stream, long sequence)
    {
        _faults.Enqueue(new InjectedFault(kind, stream.Name, sequence));
        Interlocked.Increment(ref _counts[(int)kind]);
    }

    public long Total => _counts.Sum(c => Interlocked.Read(ref c));

    public long CountOf(FaultKind kind) => Interlocked.Read(ref _counts[(int)kind]);

    public IReadOnlyDictionary<FaultKind, long> CountsByKind() =>
        Enum.GetValues<FaultKind>().ToDictionary(kind => kind, CountOf);

    /// <summary>The injected faults in a stable order (kind, stream, sequence), independent of timing.</summary>
    public IReadOnlyList<InjectedFault> Snapshot() =>
        _faults.OrderBy(f => f.Kind).ThenBy(f => f.Stream, StringComparer.Ordinal).ThenBy(f => f.Sequence).ToArray();

    /// <summary>How many operations each stream decided on.</summary>
    public IReadOnlyDictionary<string, long> EvaluatedByStream() =>
        _streams.ToDictionary(pair => pair.Key, pair => pair.Value.Evaluated, StringComparer.Ordinal);
}

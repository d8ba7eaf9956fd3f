using Netmem.Pool.Misuse;

namespace Netmem.Chaos;

/// <summary>Misuse the runtime rejected, by the kind its exception names, and misuse it failed to reject.</summary>
internal sealed class MisuseTally
{
    private readonly long[] _rejected = new long[Enum.GetValues<MisuseKind>().Length];
    private long _notRejected;

    public long NotRejected => Interlocked.Read(ref _notRejected);

    public void Rejected(MisuseKind kind) => Interlocked.Increment(ref _rejected[(int)kind]);

    public void Accepted() => Interlocked.Increment(ref _notRejected);

    public IReadOnlyDictionary<MisuseKind, long> RejectedByKind() =>
        Enum.GetValues<MisuseKind>().ToDictionary(kind => kind, kind => Interlocked.Read(ref _rejected[(int)kind]));
}

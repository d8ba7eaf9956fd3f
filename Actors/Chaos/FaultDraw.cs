namespace Netmem.Chaos;

/// <summary>The parameters of one injected fault, drawn from the same hash that decided to inject it.</summary>
internal readonly record struct FaultDraw(FaultDecider Decider, FaultKind Kind, FaultStream Stream, long Sequence)
{
    public long OperationId => Stream.OperationId(Sequence);

    /// <summary>A value in [<paramref name="min"/>, <paramref name="max"/>), from draw 1.</summary>
    public TimeSpan Between(TimeSpan min, TimeSpan max) =>
        min + ((max - min) * Decider.Fraction(Kind, OperationId, 1));

    /// <summary>An integer in [0, <paramref name="count"/>), from draw 2.</summary>
    public int Choose(int count) => Decider.Between(Kind, OperationId, 2, 0, count);

    public override string ToString() => $"{Kind} on {Stream.Name}#{Sequence}";
}

using Polly;
using Polly.Simmy;
using Polly.Simmy.Behavior;
using Polly.Simmy.Fault;
using Polly.Simmy.Latency;
using Polly.Simmy.Outcomes;

namespace Netmem.Chaos;

/// <summary>
/// Polly v8 chaos strategies made reproducible: each strategy's <c>InjectionRateGenerator</c> returns exactly 0 or 1,
/// decided by the <see cref="FaultDecider"/> from the operation the <see cref="ResilienceContext"/> carries, and the
/// fault (exception, latency, outcome or behaviour) is generated from the same hash. The built-in randomizer is
/// replaced by a constant, so Polly's shared, unseedable random is never consulted. Every injection is written to
/// the <see cref="FaultLedger"/>.
/// </summary>
internal sealed class SeededChaos
{
    private static readonly ResiliencePropertyKey<FaultStream> StreamKey = new("netmem.chaos.stream");
    private static readonly ResiliencePropertyKey<long> SequenceKey = new("netmem.chaos.sequence");

    public SeededChaos(FaultDecider decider, FaultLedger ledger)
    {
        Decider = decider;
        Ledger = ledger;
    }

    public FaultDecider Decider { get; }

    public FaultLedger Ledger { get; }

    /// <summary>A context for the next operation of <paramref name="stream"/>; give it back with <see cref="Leave"/>.</summary>
    public static ResilienceContext Enter(FaultStream stream, CancellationToken cancellationToken = default)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StreamKey, stream);
        context.Properties.Set(SequenceKey, stream.NextSequence());
        return context;
    }

    public static void Leave(ResilienceContext context) => ResilienceContextPool.Shared.Return(context);

    public ChaosFaultStrategyOptions Fault(FaultKind kind, Func<FaultDraw, Exception> fault) => new()
    {
        Randomizer = NeverRandom,
        InjectionRateGenerator = args => Rate(kind, args.Context),
        FaultGenerator = args => ValueTask.FromResult<Exception?>(fault(DrawOf(kind, args.Context))),
        OnFaultInjected = args => RecordAsync(kind, args.Context),
    };

    public ChaosLatencyStrategyOptions Latency(FaultKind kind, TimeSpan min, TimeSpan max) => new()
    {
        Randomizer = NeverRandom,
        InjectionRateGenerator = args => Rate(kind, args.Context),
        LatencyGenerator = args => ValueTask.FromResult(DrawOf(kind, args.Context).Between(min, max)),
        OnLatencyInjected = args => RecordAsync(kind, args.Context),
    };

    public ChaosOutcomeStrategyOptions<T> Outcome<T>(FaultKind kind, Func<FaultDraw, T> outcome) => new()
    {
        Randomizer = NeverRandom,
        InjectionRateGenerator = args => Rate(kind, args.Context),
        OutcomeGenerator = args => ValueTask.FromResult<Outcome<T>?>(Polly.Outcome.FromResult(outcome(DrawOf(kind, args.Context)))),
        OnOutcomeInjected = args => RecordAsync(kind, args.Context),
    };

    public ChaosBehaviorStrategyOptions Behavior(FaultKind kind, Func<FaultDraw, ResilienceContext, ValueTask> behavior) => new()
    {
        Randomizer = NeverRandom,
        InjectionRateGenerator = args => Rate(kind, args.Context),
        BehaviorGenerator = args => behavior(DrawOf(kind, args.Context), args.Context),
        OnBehaviorInjected = args => RecordAsync(kind, args.Context),
    };

    private static double NeverRandom() => 0.5;

    private static (FaultStream Stream, long Sequence) OperationOf(ResilienceContext context)
    {
        if (!context.Properties.TryGetValue(StreamKey, out FaultStream? stream) || !context.Properties.TryGetValue(SequenceKey, out long sequence))
        {
            throw new InvalidOperationException("A seeded chaos strategy ran without an operation; execute it with a context from SeededChaos.Enter.");
        }

        return (stream, sequence);
    }

    private ValueTask<double> Rate(FaultKind kind, ResilienceContext context)
    {
        (FaultStream stream, long sequence) = OperationOf(context);
        return ValueTask.FromResult(Decider.Decides(kind, stream.OperationId(sequence)) ? 1.0 : 0.0);
    }

    private FaultDraw DrawOf(FaultKind kind, ResilienceContext context)
    {
        (FaultStream stream, long sequence) = OperationOf(context);
        return new FaultDraw(Decider, kind, stream, sequence);
    }

    private ValueTask RecordAsync(FaultKind kind, ResilienceContext context)
    {
        (FaultStream stream, long sequence) = OperationOf(context);
        Ledger.Record(kind, stream, sequence);
        return ValueTask.CompletedTask;
    }
}

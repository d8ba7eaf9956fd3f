using Netmem.Chaos;
using Polly;
using Polly.Simmy;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

public sealed class SeededChaosSpecs
{
    [Fact]
    public async Task A_polly_chaos_fault_is_injected_exactly_on_the_operations_the_seed_picks_and_each_is_ledgered()
    {
        var chaos = new SeededChaos(new FaultDecider(9, new FaultRates(0.05, ChaosSettings.AllFaults)), new FaultLedger());
        FaultStream stream = chaos.Ledger.Stream("maps");
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddChaosFault(chaos.Fault(FaultKind.DmaMapFailure, draw => new InvalidOperationException(draw.ToString())))
            .Build();

        var failed = new List<long>();
        for (int i = 0; i < 2_000; i++)
        {
            ResilienceContext context = SeededChaos.Enter(stream);
            try
            {
                await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, context);
            }
            catch (InvalidOperationException)
            {
                failed.Add(i);
            }
            finally
            {
                SeededChaos.Leave(context);
            }
        }

        long[] expected = Enumerable.Range(0, 2_000).Where(i => chaos.Decider.Decides(FaultKind.DmaMapFailure, stream.OperationId(i))).Select(i => (long)i).ToArray();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, failed);
        Assert.Equal(expected, chaos.Ledger.Snapshot().Select(f => f.Sequence));
        Assert.Equal(2_000, stream.Evaluated);
    }

    [Fact]
    public void Two_ledgers_of_one_seed_match_even_when_operations_run_on_many_threads()
    {
        IReadOnlyList<InjectedFault> first = InjectLatencyDecisionsInParallel(seed: 3);
        IReadOnlyList<InjectedFault> second = InjectLatencyDecisionsInParallel(seed: 3);

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_chaos_outcome_replaces_the_result_only_on_picked_operations()
    {
        var chaos = new SeededChaos(new FaultDecider(4, new FaultRates(0.1, ChaosSettings.AllFaults)), new FaultLedger());
        var seam = new AllocationFaultSeam(chaos, chaos.Ledger.Stream("alloc"));

        int failures = Enumerable.Range(0, 1_000).Count(_ => seam.Fails());

        Assert.Equal(chaos.Ledger.CountOf(FaultKind.AllocationFailure), failures);
        Assert.InRange(failures, 60, 140);
    }

    private static IReadOnlyList<InjectedFault> InjectLatencyDecisionsInParallel(ulong seed)
    {
        var chaos = new SeededChaos(new FaultDecider(seed, new FaultRates(0.01, ChaosSettings.AllFaults)), new FaultLedger());
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddChaosBehavior(chaos.Behavior(FaultKind.ConsumerMisuse, (_, _) => ValueTask.CompletedTask))
            .Build();
        Parallel.For(0, 8, worker =>
        {
            FaultStream stream = chaos.Ledger.Stream($"consumer{worker}");
            for (int i = 0; i < 5_000; i++)
            {
                ResilienceContext context = SeededChaos.Enter(stream);
                pipeline.Execute(static _ => { }, context);
                SeededChaos.Leave(context);
            }
        });
        return chaos.Ledger.Snapshot();
    }
}

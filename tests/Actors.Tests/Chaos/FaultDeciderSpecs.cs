using Netmem.Chaos;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

public sealed class FaultDeciderSpecs
{
    private static readonly FaultRates OnePercent = new(0.01, ChaosSettings.AllFaults);

    [Fact]
    public void One_seed_decides_every_operation_the_same_way_whatever_the_order_of_asking()
    {
        var decider = new FaultDecider(1234, OnePercent);
        long[] ascending = Enumerable.Range(0, 100_000).Where(op => decider.Decides(FaultKind.DmaMapFailure, op)).Select(op => (long)op).ToArray();
        long[] shuffledThenSorted = Enumerable.Range(0, 100_000).OrderBy(op => (op * 7919) % 100_003).AsParallel()
            .Where(op => new FaultDecider(1234, OnePercent).Decides(FaultKind.DmaMapFailure, op)).Select(op => (long)op).Order().ToArray();

        Assert.Equal(ascending, shuffledThenSorted);
    }

    [Fact]
    public void Different_seeds_pick_different_operations()
    {
        long[] first = Picks(new FaultDecider(1, OnePercent), FaultKind.DmaMapFailure);
        long[] second = Picks(new FaultDecider(2, OnePercent), FaultKind.DmaMapFailure);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Fault_kinds_are_decided_independently_on_the_same_operation()
    {
        var decider = new FaultDecider(1, OnePercent);

        Assert.NotEqual(Picks(decider, FaultKind.DmaMapFailure), Picks(decider, FaultKind.AllocationFailure));
    }

    [Fact]
    public void The_share_of_operations_picked_matches_the_rate()
    {
        var decider = new FaultDecider(77, OnePercent);

        int picked = Picks(decider, FaultKind.DmaMapFailure).Length;

        Assert.InRange(picked, 900, 1100);
    }

    [Fact]
    public void A_disabled_fault_is_never_injected()
    {
        var decider = new FaultDecider(1, new FaultRates(1.0, new HashSet<FaultKind> { FaultKind.DmaMapFailure }));

        Assert.Empty(Picks(decider, FaultKind.AllocationFailure));
        Assert.Equal(100_000, Picks(decider, FaultKind.DmaMapFailure).Length);
    }

    private static long[] Picks(FaultDecider decider, FaultKind kind) =>
        Enumerable.Range(0, 100_000).Where(op => decider.Decides(kind, op)).Select(op => (long)op).ToArray();
}

using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class UnbindSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void An_unbind_with_nothing_inflight_returns_the_ring_pages_and_unmaps_nothing_else()
    {
        var device = DeviceHarness.StartBound(this, new HarnessOptions { FramesPerQueue = 0 });
        device.AwaitAssert(() => Assert.Equal(2 * 64, device.PagesLent));

        UnbindReport report = device.Unbind();

        Assert.Equal(2 * 64, report.RingPagesReturned);
        Assert.Equal(0, report.UnmappedByDestroy);
        Assert.Equal(0, report.StillHeld);
        Assert.Equal(2, report.Pools.Count);
        Assert.All(report.Phases, p => Assert.Equal(UnbindPhaseOutcome.Completed, p.Outcome));
        Assert.Equal([UnbindPhase.Quiesce, UnbindPhase.DestroyPools, UnbindPhase.TeardownDomain], report.Phases.Select(p => p.Phase));
        Assert.True(report.IsClean);
        device.AssertIommuClean(report);
        Assert.Equal(0, device.PoolInflight);
        Assert.Equal(device.Iommu.MapCalls, device.Iommu.UnmapCalls);
        device.AssertEveryPageCameBack();
    }

    [Fact]
    public void Unbound_arrives_while_consumers_still_hold_thousands_of_pages_and_their_late_returns_make_no_device_call()
    {
        const int framesPerQueue = 2_500;
        var device = DeviceHarness.Start(this, new HarnessOptions { FramesPerQueue = framesPerQueue, FramesPerSecond = 0 });
        var holders = new[]
        {
            device.OpenConsumer("even", [0, 2], ConsumerBehavior.HoldUntilReleased),
            device.OpenConsumer("odd", [1, 3], ConsumerBehavior.HoldUntilReleased),
        };
        device.Bind();
        device.AwaitAssert(() => Assert.Equal(2 * framesPerQueue, holders.Sum(h => device.StatusOf(h).Held)));

        UnbindReport report = device.Unbind();

        // Unbound came first: the consumers still hold every page, and the destroy unmapped each of them.
        Assert.Equal(2 * framesPerQueue, holders.Sum(h => device.StatusOf(h).Held));
        Assert.Equal(2 * framesPerQueue, report.UnmappedByDestroy);
        Assert.Equal(2 * framesPerQueue, report.StillHeld);
        Assert.Equal(report.StillHeld, device.PoolInflight);
        device.AssertIommuClean(report);

        long maps = device.Iommu.MapCalls, unmaps = device.Iommu.UnmapCalls, syncs = device.Iommu.SyncCalls, writes = device.Iommu.DmaWrites;
        Assert.Equal(2 * framesPerQueue, holders.Sum(h => device.Release(h).Released));
        device.AssertEveryPageCameBack();
        Assert.Equal((maps, unmaps, syncs, writes), (device.Iommu.MapCalls, device.Iommu.UnmapCalls, device.Iommu.SyncCalls, device.Iommu.DmaWrites));
        Assert.Equal(2 * framesPerQueue, device.Pools.Sum(p => p.GetStats().LateReturns));
    }

    [Fact]
    public void An_unbind_under_full_traffic_stops_every_device_call_at_Unbound()
    {
        var device = DeviceHarness.StartBound(this, new HarnessOptions { FramesPerSecond = 100_000 });
        var consumers = new[]
        {
            device.OpenConsumer("fast", [0, 1], ConsumerBehavior.ReleaseAtOnce),
            device.OpenConsumer("slow", [2, 3], new ConsumerBehavior { HoldTime = TimeSpan.FromMilliseconds(20) }),
        };
        device.AwaitAssert(() => Assert.True(consumers.Sum(c => device.StatusOf(c).Read) > 20_000));

        UnbindReport report = device.Unbind();
        long maps = device.Iommu.MapCalls, unmaps = device.Iommu.UnmapCalls, syncs = device.Iommu.SyncCalls, writes = device.Iommu.DmaWrites;

        device.AssertIommuClean(report);
        Assert.True(report.IsClean);
        Assert.Equal(2 * 64, report.RingPagesReturned);
        device.AssertEveryPageCameBack();
        Assert.Equal((maps, unmaps, syncs, writes), (device.Iommu.MapCalls, device.Iommu.UnmapCalls, device.Iommu.SyncCalls, device.Iommu.DmaWrites));
        Assert.Equal(device.Iommu.MapCalls, device.Iommu.UnmapCalls);
    }

    [Fact]
    public void Concurrent_and_repeated_unbind_requests_all_get_the_same_Unbound()
    {
        var device = DeviceHarness.StartBound(this, new HarnessOptions { FramesPerQueue = 2_000, FramesPerSecond = 50_000 });
        device.OpenConsumer("holder", [0, 1, 2, 3], ConsumerBehavior.HoldUntilReleased);
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        device.Device.Tell(Unbind.Instance, first);
        device.Device.Tell(Unbind.Instance, second);
        Unbound one = first.ExpectMsg<Unbound>(DeviceHarness.Patience);
        Unbound two = second.ExpectMsg<Unbound>(DeviceHarness.Patience);
        UnbindReport late = device.Unbind();

        Assert.Same(one, two);
        Assert.Same(one.Report, late);
        Assert.Equal(1, one.Report.Generation);
        first.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        device.AssertIommuClean(one.Report);
        Assert.Equal(one.Report.StillHeld, device.PoolInflight);
    }

    [Fact]
    public void A_device_unbound_then_bound_again_gets_a_new_domain_and_new_pools_and_unbinds_cleanly_again()
    {
        const int framesPerBind = 2 * 1_500;
        var device = DeviceHarness.Start(this, new HarnessOptions { FramesPerQueue = framesPerBind / 2, FramesPerSecond = 50_000 });
        var consumer = device.OpenConsumer("holder", [0, 1, 2, 3], ConsumerBehavior.HoldUntilReleased);
        device.Bind();
        device.AwaitAssert(() => Assert.Equal(framesPerBind, device.StatusOf(consumer).Held));
        var firstPools = device.Pools;
        UnbindReport first = device.Unbind();
        device.AssertIommuClean(first);
        Assert.Equal(framesPerBind, first.StillHeld);

        Bound rebound = device.Bind();
        Assert.Equal(2, rebound.Generation);
        Assert.True(device.Iommu.IsBound);
        Assert.Empty(rebound.Pools.Select(p => p.Id).Intersect(firstPools.Select(p => p.Id)));
        device.AwaitAssert(() => Assert.Equal(2 * framesPerBind, device.StatusOf(consumer).Held));
        UnbindReport second = device.Unbind();

        Assert.Equal(2, second.Generation);
        Assert.NotSame(first, second);
        device.AssertIommuClean(second);
        Assert.Equal(framesPerBind, second.StillHeld);
        Assert.Equal(2 * framesPerBind, firstPools.Concat(device.Pools).Sum(p => p.GetStats().Inflight));
        device.Release(consumer);
        device.AssertEveryPageCameBack();
        Assert.All(firstPools, p => Assert.Equal(Pool.PagePoolState.Released, p.State));
    }
}

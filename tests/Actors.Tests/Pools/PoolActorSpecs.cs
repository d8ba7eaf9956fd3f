using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Pools;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Pools;

public sealed class PoolActorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void Introspection_reports_id_device_queue_inflight_bytes_and_detach_time_like_page_pool_get()
    {
        var iommu = new IommuModel("eth7");
        (IActorRef actor, PagePool pool) = PoolActor.Create(Sys, new PagePoolOptions { Device = iommu, QueueIndex = 3, Name = "eth7-rx3" }, 3, "pool");
        NetmemRef held = pool.Allocate();

        actor.Tell(GetPoolInfo.Instance);
        PagePoolInfo info = ExpectMsg<PagePoolInfo>();

        Assert.Equal(pool.Id, info.Id);
        Assert.Equal("eth7", info.Device);
        Assert.Equal(3, info.QueueIndex);
        Assert.Equal(pool.Inflight, info.Inflight);
        Assert.Equal(info.Inflight * 4096, info.InflightBytes);
        Assert.Null(info.DetachTime);

        actor.Tell(DestroyPool.Instance);
        PoolDestroyed destroyed = ExpectMsg<PoolDestroyed>();
        actor.Tell(GetPoolInfo.Instance);
        PagePoolInfo detached = ExpectMsg<PagePoolInfo>();

        Assert.Equal(3, destroyed.QueueIndex);
        Assert.Equal(1, destroyed.Report.UnmappedByDestroy);
        Assert.Equal(PagePoolState.Detached, detached.State);
        Assert.Equal(destroyed.Report.DetachTime, detached.DetachTime);
        Assert.Equal(1, detached.Inflight);
        pool.Return(held);
        Assert.Empty(iommu.Violations);
    }

    [Fact]
    public void A_second_destroy_gets_the_same_report_and_the_actor_stops_once_the_last_page_is_back()
    {
        var iommu = new IommuModel("eth8");
        (IActorRef actor, PagePool pool) = PoolActor.Create(Sys, new PagePoolOptions { Device = iommu }, 0, "pool");
        NetmemRef held = pool.Allocate();
        Watch(actor);

        actor.Tell(DestroyPool.Instance);
        PoolDestroyed first = ExpectMsg<PoolDestroyed>();
        actor.Tell(DestroyPool.Instance);
        PoolDestroyed second = ExpectMsg<PoolDestroyed>();
        actor.Tell(GetPoolStats.Instance);
        PagePoolStats stats = ExpectMsg<PagePoolStats>();

        Assert.Same(first, second);
        Assert.Equal(1, stats.Inflight);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        pool.Return(held);
        ExpectTerminated(actor, TimeSpan.FromSeconds(5));
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Empty(iommu.Violations);
    }

    [Fact]
    public void A_destroy_that_fails_is_answered_with_the_failure_and_the_actor_keeps_its_pool()
    {
        var iommu = new IommuModel("eth9");
        (IActorRef actor, PagePool pool) = PoolActor.Create(Sys, new PagePoolOptions { Device = iommu }, 0, "pool");
        pool.Destroy();

        actor.Tell(DestroyPool.Instance);
        Status.Failure failure = ExpectMsg<Status.Failure>();
        actor.Tell(GetPoolInfo.Instance);

        Assert.IsType<Netmem.Pool.Misuse.PoolAlreadyDestroyedException>(failure.Cause);
        Assert.Equal(pool.Id, ExpectMsg<PagePoolInfo>().Id);
    }
}

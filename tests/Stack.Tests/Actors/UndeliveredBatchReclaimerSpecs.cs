using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Rx;
using Netmem.Stack.Sockets;
using Xunit;
using Xunit.Abstractions;
using static Netmem.Stack.Tests.Actors.StackActorFixture;

namespace Netmem.Stack.Tests.Actors;

public sealed class UndeliveredBatchReclaimerSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_batch_sent_to_a_stopped_stack_actor_has_its_pages_returned()
    {
        var pool = new PagePool(new PagePoolOptions());
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(new FlowDemultiplexer(), "eth0", 0));
        Watch(queue);
        Sys.Stop(queue);
        ExpectTerminated(queue);

        // Sent the instant Start returns, before the reclaimer has run at all: it must already be subscribed.
        IActorRef reclaimer = UndeliveredBatchReclaimer.Start(Sys, "reclaimer");
        queue.Tell(new RxBatch("eth0", 0, [Frame(pool, Bound), Frame(pool, Unbound), Frame(pool, Bound)]));

        AwaitAssert(() => Assert.Equal(0, Lent(pool)));
        reclaimer.Tell(GetReclaimedCount.Instance);
        Assert.Equal(3L, ExpectMsg<long>());
    }

    [Fact]
    public void A_pooled_batch_that_became_a_dead_letter_has_its_pages_returned_and_its_lending_ended_but_is_never_recycled()
    {
        var pool = new PagePool(new PagePoolOptions());
        IActorRef queue = Sys.ActorOf(StackQueueActor.Props(new FlowDemultiplexer(), "eth0", 0));
        Watch(queue);
        Sys.Stop(queue);
        ExpectTerminated(queue);
        IActorRef reclaimer = UndeliveredBatchReclaimer.Start(Sys, "reclaimer");
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = Rent(batches);
        batch.Add(Frame(pool, Bound));
        batch.Add(Frame(pool, Unbound));

        queue.Tell(batch);

        AwaitAssert(() => Assert.Equal(0, Lent(pool)));
        reclaimer.Tell(GetReclaimedCount.Instance);
        Assert.Equal(2L, ExpectMsg<long>());
        AwaitAssert(() => Assert.Equal(0, batches.LentCount));
        Assert.Equal(0, batches.FreeCount);
        Assert.Equal(2, batch.Count);
    }
}

using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Stack.Actors;
using Netmem.Stack.Rx;
using Netmem.Stack.Sockets;
using Xunit;
using Xunit.Abstractions;
using static Netmem.Stack.Tests.Actors.StackActorFixture;

namespace Netmem.Stack.Tests.Actors;

public sealed class NetworkStackActorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private readonly FlowDemultiplexer _demultiplexer = new();

    [Fact]
    public void The_stack_answers_an_open_consumer_only_once_the_consumer_has_bound_its_flows_and_opened_its_socket()
    {
        // An answer sent before the consumer started (a test or an application would then inject traffic that no
        // socket takes) arrives while its start is held.
        var start = new HeldStart();
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));

        stack.Tell(new OpenConsumer(new ConsumerSpec("app", [Bound], 256, start.Behavior)));
        start.AwaitHeld();
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        start.Release();

        ConsumerOpened opened = ExpectMsg<ConsumerOpened>(TimeSpan.FromSeconds(15));
        Assert.Equal("app", opened.Name);
        Assert.True(_demultiplexer.TryGetConsumer(Bound, out _), "the answer came before the consumer's flow was bound");
    }

    [Fact]
    public void The_stack_opens_no_rx_queue_until_a_consumer_opened_without_a_requester_has_bound_its_flows()
    {
        // As the runtime opens its configured consumers: no requester, then a device asks for its RX queues. The
        // consumer's start is held, so RX queues opened at once would let the device's first frames find no socket.
        var start = new HeldStart();
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));

        stack.Tell(new OpenConsumer(new ConsumerSpec("configured", [Bound], 256, start.Behavior)), ActorRefs.NoSender);
        stack.Tell(new OpenRxQueues("eth0", 2));
        start.AwaitHeld();
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        start.Release();

        RxQueuesOpened opened = ExpectMsg<RxQueuesOpened>(TimeSpan.FromSeconds(15));
        Assert.Equal(2, opened.Queues.Count);
        Assert.True(_demultiplexer.TryGetConsumer(Bound, out _), "the RX queues opened before the consumer's flow was bound");
    }

    [Fact]
    public void A_configured_consumer_that_cannot_start_does_not_hold_the_rx_queues_back()
    {
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));
        var takesTheRest = new ConsumerSpec("first", [], 256, ConsumerBehavior.HoldUntilReleased) { TakesUnmatchedFlows = true };
        stack.Tell(new OpenConsumer(takesTheRest), ActorRefs.NoSender);
        stack.Tell(new OpenConsumer(takesTheRest with { Name = "second" }), ActorRefs.NoSender);

        stack.Tell(new OpenRxQueues("eth0", 1));

        // The two start side by side: whichever binds first takes the unmatched flows, and the other is stopped.
        Assert.Single(ExpectMsg<RxQueuesOpened>(TimeSpan.FromSeconds(15)).Queues);
        Assert.Contains(_demultiplexer.Unmatched?.Name, new[] { "first", "second" });
    }

    [Fact]
    public async Task A_consumer_that_cannot_start_fails_its_requesters_open_with_the_reason_in_words()
    {
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));
        var capture = new ConsumerSpec("capture", [], 256, ConsumerBehavior.HoldUntilReleased) { TakesUnmatchedFlows = true };
        await stack.Ask<ConsumerOpened>(new OpenConsumer(capture), TimeSpan.FromSeconds(15));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => stack.Ask<ConsumerOpened>(new OpenConsumer(capture with { Name = "second capture" }), TimeSpan.FromSeconds(15)));

        Assert.Equal(
            "Consumer 'second capture' stopped before it had bound its flows: Consumer 'second capture' cannot take unmatched flows: another consumer already does.",
            refused.Message);
        Assert.Equal("capture", _demultiplexer.Unmatched?.Name);
        stack.Tell(new OpenRxQueues("eth0", 1));
        Assert.Single(ExpectMsg<RxQueuesOpened>(TimeSpan.FromSeconds(15)).Queues);
    }

    [Fact]
    public void Every_open_consumer_is_answered_with_its_own_name_and_actor()
    {
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));

        stack.Tell(new OpenConsumer(new ConsumerSpec("first", [Bound], 256, ConsumerBehavior.HoldUntilReleased)));
        stack.Tell(new OpenConsumer(new ConsumerSpec("second", [Unbound], 256, ConsumerBehavior.HoldUntilReleased)));

        var answers = new[] { ExpectMsg<ConsumerOpened>(), ExpectMsg<ConsumerOpened>() }.OrderBy(a => a.Name).ToArray();
        Assert.Equal(["first", "second"], answers.Select(a => a.Name));
        Assert.NotEqual(answers[0].Consumer, answers[1].Consumer);
        Assert.True(_demultiplexer.TryGetConsumer(Bound, out SocketConsumer first) && first.Name == "first");
        Assert.True(_demultiplexer.TryGetConsumer(Unbound, out SocketConsumer second) && second.Name == "second");
    }

    /// <summary>
    /// A consumer behaviour whose start is held inside its socket-opened hook, which runs in <c>PreStart</c> after
    /// the consumer's flows are bound, until the test releases it. Its events are left to the collector: the
    /// consumer's thread may still be waking from one when the test ends.
    /// </summary>
    private sealed class HeldStart
    {
        private readonly ManualResetEventSlim _held = new();
        private readonly ManualResetEventSlim _released = new();

        public HeldStart() =>
            Behavior = ConsumerBehavior.HoldUntilReleased with
            {
                OnSocketOpened = _ =>
                {
                    _held.Set();
                    _released.Wait(TimeSpan.FromSeconds(30));
                },
            };

        public ConsumerBehavior Behavior { get; }

        public void AwaitHeld() => Assert.True(_held.Wait(TimeSpan.FromSeconds(15)), "the consumer never started");

        public void Release() => _released.Set();
    }
}

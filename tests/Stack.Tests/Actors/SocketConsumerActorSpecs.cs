using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Netmem.Stack.Sockets;
using Xunit;
using Xunit.Abstractions;
using static Netmem.Stack.Tests.Actors.StackActorFixture;

namespace Netmem.Stack.Tests.Actors;

public sealed class SocketConsumerActorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    // How long a reply may take on a loaded machine (load 20 on two cores leaves an actor seconds behind): only an
    // upper bound on waiting, never on how fast the consumer is.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly PagePool _pool = new(new PagePoolOptions());
    private readonly FlowDemultiplexer _demultiplexer = new();

    [Fact]
    public void A_consumer_that_crashes_while_holding_pages_returns_them_and_restarts_on_a_fresh_socket()
    {
        int crashes = 0;
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));
        var behavior = new ConsumerBehavior
        {
            HoldTime = null,
            OnPacketRead = read =>
            {
                if (read == 30 && Interlocked.Exchange(ref crashes, 1) == 0)
                {
                    throw new InvalidOperationException("application bug");
                }
            },
        };
        stack.Tell(new OpenConsumer(new ConsumerSpec("app", [Bound], 256, behavior)));
        IActorRef consumer = ExpectMsg<ConsumerOpened>().Consumer;
        Assert.True(_demultiplexer.TryGetConsumer(Bound, out _));
        SocketConsumer first = Socket();

        Deliver(40);

        // The first 30 were held when it crashed; its PostStop returned them (and the 10 still queued). The new
        // incarnation has its own socket, bound to the same flow.
        AwaitAssert(() => Assert.NotSame(first, Socket()));
        AwaitAssert(() => Assert.Equal(0, Lent(_pool)));
        Assert.Equal(1, crashes);
        Deliver(5);
        AwaitAssert(() => Assert.Equal(5, Status(consumer).Held));
        Assert.Equal(5, Lent(_pool));
        Assert.Equal(5, Release(consumer));
        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public async Task Release_held_also_lets_go_of_packets_delivered_but_not_yet_read()
    {
        // The consumer reads one packet per wake-up and is kept inside the first read while nine more are delivered
        // and the release is sent, so the release reaches its mailbox before the wake-up for the nine.
        using var firstRead = new ManualResetEventSlim();
        using var letFirstReadEnd = new ManualResetEventSlim();
        var behavior = ConsumerBehavior.HoldUntilReleased with
        {
            ReadBatch = 1,
            OnPacketRead = read =>
            {
                if (read == 1)
                {
                    firstRead.Set();
                    letFirstReadEnd.Wait(TimeSpan.FromSeconds(30));
                }
            },
        };
        IActorRef consumer = Sys.ActorOf(SocketConsumerActor.Props(_demultiplexer, new ConsumerSpec("app", [Bound], 256, behavior)));
        AwaitAssert(() => Assert.True(_demultiplexer.TryGetConsumer(Bound, out _)));
        Deliver(1);
        Assert.True(firstRead.Wait(TimeSpan.FromSeconds(15)), "the consumer never read the first packet");
        Deliver(9);

        Task<HeldReleased> released = consumer.Ask<HeldReleased>(ReleaseHeld.Instance, TimeSpan.FromSeconds(15));
        letFirstReadEnd.Set();

        Assert.Equal(10, (await released).Released);
        Assert.Equal(0, Lent(_pool));
        Assert.Equal(0, Status(consumer).Held);
    }

    [Fact]
    public void A_consumer_that_stops_returns_what_it_held_and_what_was_still_queued()
    {
        IActorRef consumer = Sys.ActorOf(SocketConsumerActor.Props(_demultiplexer, new ConsumerSpec("app", [Bound], 256, ConsumerBehavior.HoldUntilReleased)));
        AwaitAssert(() => Assert.True(_demultiplexer.TryGetConsumer(Bound, out _)));
        Deliver(20);
        AwaitAssert(() => Assert.Equal(20, Status(consumer).Held));
        Watch(consumer);

        Sys.Stop(consumer);
        ExpectTerminated(consumer);

        Assert.Equal(0, Lent(_pool));
        Assert.False(_demultiplexer.TryGetConsumer(Bound, out _));
    }

    [Fact]
    public void A_consumer_with_a_hold_time_keeps_packets_at_least_that_long_then_returns_them()
    {
        IActorRef consumer = Sys.ActorOf(SocketConsumerActor.Props(_demultiplexer, new ConsumerSpec("app", [Bound], 256, new ConsumerBehavior { HoldTime = TimeSpan.FromMilliseconds(200) })));
        AwaitAssert(() => Assert.True(_demultiplexer.TryGetConsumer(Bound, out _)));

        var sinceDelivery = System.Diagnostics.Stopwatch.StartNew();
        Deliver(10);
        AwaitAssert(() => Assert.Equal(10, Status(consumer).Read));

        // Judged on when the pages came back, not on a snapshot right after the read, which a loaded machine can
        // take after the hold time has already passed.
        AwaitAssert(() => Assert.Equal(0, Lent(_pool)), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(10));
        Assert.True(sinceDelivery.Elapsed >= TimeSpan.FromMilliseconds(200), $"pages came back after {sinceDelivery.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(0, Status(consumer).Held);
    }

    [Fact]
    public void A_consumer_that_releases_at_once_returns_every_page_as_it_reads_and_keeps_nothing_held()
    {
        IActorRef consumer = Sys.ActorOf(SocketConsumerActor.Props(_demultiplexer, new ConsumerSpec("app", [Bound], 256, ConsumerBehavior.ReleaseAtOnce)));
        AwaitAssert(() => Assert.True(_demultiplexer.TryGetConsumer(Bound, out _)));

        Deliver(150);

        AwaitAssert(() => Assert.Equal(150, Status(consumer).Read));
        AwaitAssert(() => Assert.Equal(0, Lent(_pool)));
        Assert.Equal(0, Status(consumer).Held);
    }

    [Fact]
    public void A_release_at_once_consumer_that_crashes_in_its_read_callback_still_returns_that_packet_and_the_queued_ones()
    {
        int crashes = 0;
        var behavior = ConsumerBehavior.ReleaseAtOnce with
        {
            OnPacketRead = read =>
            {
                if (read == 3 && Interlocked.Exchange(ref crashes, 1) == 0)
                {
                    throw new InvalidOperationException("application bug");
                }
            },
        };
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));
        stack.Tell(new OpenConsumer(new ConsumerSpec("app", [Bound], 256, behavior)));
        ExpectMsg<ConsumerOpened>();
        Assert.True(_demultiplexer.TryGetConsumer(Bound, out _));
        SocketConsumer first = Socket();

        EventFilter.Exception<InvalidOperationException>().ExpectOne(() => Deliver(10));

        AwaitAssert(() => Assert.NotSame(first, Socket()));
        AwaitAssert(() => Assert.Equal(0, Lent(_pool)));
        Assert.Equal(1, crashes);
    }

    private SocketConsumer Socket()
    {
        Assert.True(_demultiplexer.TryGetConsumer(Bound, out SocketConsumer socket));
        return socket;
    }

    private void Deliver(int packets)
    {
        for (int i = 0; i < packets; i++)
        {
            RxFrame frame = Frame(_pool, Bound);
            Assert.True(PacketParser.TryParse(frame.Netmem.GetSpan()[..frame.Length], out ParsedPacket packet));
            _demultiplexer.Dispatch(frame.Netmem, frame.Offset, frame.Length, packet);
        }
    }

    private ConsumerStatus Status(IActorRef consumer)
    {
        consumer.Tell(GetConsumerStatus.Instance);
        return ExpectMsg<ConsumerStatus>(Patience);
    }

    private int Release(IActorRef consumer)
    {
        consumer.Tell(ReleaseHeld.Instance);
        return ExpectMsg<HeldReleased>(Patience).Released;
    }
}

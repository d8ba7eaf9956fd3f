using System.Collections.Concurrent;
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

/// <summary>The per-packet hooks of <see cref="ConsumerBehavior"/>, on the real consumer actor.</summary>
public sealed class ConsumerBehaviorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private readonly PagePool _pool = new(new PagePoolOptions());
    private readonly FlowDemultiplexer _demultiplexer = new();

    [Fact]
    public void A_packet_the_decision_takes_is_the_callers_and_one_it_releases_goes_back_at_once()
    {
        var taken = new ConcurrentQueue<ReceivedPacket>();
        long decided = 0;
        IActorRef consumer = Open(new ConsumerBehavior
        {
            HoldTime = null,
            DecidePacket = packet =>
            {
                long n = Interlocked.Increment(ref decided);
                if (n <= 3)
                {
                    taken.Enqueue(packet);
                    return PacketDecision.Taken;
                }

                return n <= 6 ? PacketDecision.Release : PacketDecision.Hold;
            },
        });

        Deliver(10);

        AwaitAssert(() => Assert.Equal(10, Status(consumer).Read));
        Assert.Equal(4, Status(consumer).Held);
        Assert.Equal(3 + 4, Lent(_pool));
        Assert.Equal(4, Release(consumer));
        Assert.Equal(3, Lent(_pool));
        foreach (ReceivedPacket packet in taken)
        {
            packet.Dispose();
        }

        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public void A_release_callback_that_takes_a_packet_keeps_its_page_until_it_disposes_it()
    {
        var kept = new ConcurrentQueue<ReceivedPacket>();
        IActorRef consumer = Open(ConsumerBehavior.ReleaseAtOnce with
        {
            OnRelease = packet =>
            {
                kept.Enqueue(packet);
                return true;
            },
        });

        Deliver(5);

        AwaitAssert(() => Assert.Equal(5, kept.Count));
        Assert.Equal(0, Status(consumer).Held);
        Assert.Equal(5, Lent(_pool));
        foreach (ReceivedPacket packet in kept)
        {
            packet.Dispose();
        }

        Assert.Equal(0, Lent(_pool));
    }

    [Fact]
    public void Reading_past_the_cap_on_held_packets_releases_the_oldest_first()
    {
        var released = new ConcurrentQueue<long>();
        long read = 0;
        var sequence = new ConcurrentDictionary<NetmemRef, long>();
        IActorRef consumer = Open(new ConsumerBehavior
        {
            HoldTime = null,
            MaxHeld = 4,
            DecidePacket = packet =>
            {
                sequence[packet.Page] = Interlocked.Increment(ref read);
                return PacketDecision.Hold;
            },
            OnRelease = packet =>
            {
                released.Enqueue(sequence[packet.Page]);
                return false;
            },
        });

        Deliver(10);

        AwaitAssert(() => Assert.Equal(10, Status(consumer).Read));
        Assert.Equal(4, Status(consumer).Held);
        Assert.Equal([1L, 2, 3, 4, 5, 6], released.ToArray());
        Assert.Equal(4, Lent(_pool));
    }

    [Fact]
    public void A_stall_holds_every_page_and_reads_nothing_until_it_passes()
    {
        long decided = 0;
        IActorRef consumer = Open(new ConsumerBehavior
        {
            HoldTime = TimeSpan.Zero,
            // Long enough that a test thread starved for seconds still asks while the stall lasts.
            DecidePacket = _ => Interlocked.Increment(ref decided) == 1 ? PacketDecision.Stall(TimeSpan.FromSeconds(4)) : PacketDecision.Hold,
        });

        Deliver(1);
        AwaitAssert(() => Assert.Equal(1, Status(consumer).Read));
        Deliver(9);
        Thread.Sleep(200);

        ConsumerStatus stalled = Status(consumer);
        Assert.Equal(1, stalled.Read);
        Assert.Equal(1, stalled.Held);
        Assert.Equal(9, stalled.Queued);
        AwaitAssert(() => Assert.Equal(10, Status(consumer).Read), TimeSpan.FromSeconds(20));
        AwaitAssert(() => Assert.Equal(0, Lent(_pool)));
    }

    [Fact]
    public void A_consumer_without_a_restart_limit_survives_more_crashes_than_the_default_allows()
    {
        var sockets = new ConcurrentQueue<SocketConsumer>();
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(_demultiplexer));
        stack.Tell(new OpenConsumer(new ConsumerSpec("fragile", [Bound], 256, new ConsumerBehavior
        {
            HoldTime = null,
            MaxRestartsPerMinute = null,
            DecidePacket = _ => throw new InvalidOperationException("application bug"),
            OnSocketOpened = sockets.Enqueue,
        })));
        IActorRef consumer = ExpectMsg<ConsumerOpened>().Consumer;
        Watch(consumer);

        for (int crash = 1; crash <= 15; crash++)
        {
            AwaitAssert(() => Assert.Equal(crash, sockets.Count));
            AwaitAssert(() => Assert.True(_demultiplexer.TryGetConsumer(Bound, out SocketConsumer bound) && ReferenceEquals(bound, sockets.Last())));
            Deliver(1);
        }

        AwaitAssert(() => Assert.Equal(16, sockets.Count));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        AwaitAssert(() => Assert.Equal(0, Lent(_pool)));
    }

    [Fact]
    public void A_consumer_that_takes_unmatched_flows_receives_them_until_it_stops()
    {
        IActorRef consumer = Sys.ActorOf(SocketConsumerActor.Props(_demultiplexer, new ConsumerSpec("capture", [], 256, ConsumerBehavior.HoldUntilReleased) { TakesUnmatchedFlows = true }));
        AwaitAssert(() => Assert.NotNull(_demultiplexer.Unmatched));

        DeliverOn(Unbound, 3);

        AwaitAssert(() => Assert.Equal(3, Status(consumer).Held));
        Watch(consumer);
        Sys.Stop(consumer);
        ExpectTerminated(consumer);
        Assert.Null(_demultiplexer.Unmatched);
        Assert.Equal(0, Lent(_pool));
    }

    private IActorRef Open(ConsumerBehavior behavior)
    {
        IActorRef consumer = Sys.ActorOf(SocketConsumerActor.Props(_demultiplexer, new ConsumerSpec("app", [Bound], 256, behavior)));
        AwaitAssert(() => Assert.True(_demultiplexer.TryGetConsumer(Bound, out _)));
        return consumer;
    }

    private void Deliver(int packets) => DeliverOn(Bound, packets);

    private void DeliverOn(FlowKey flow, int packets)
    {
        for (int i = 0; i < packets; i++)
        {
            RxFrame frame = Frame(_pool, flow);
            Assert.True(PacketParser.TryParse(frame.Netmem.GetSpan()[..frame.Length], out ParsedPacket packet));
            _demultiplexer.Dispatch(frame.Netmem, frame.Offset, frame.Length, packet);
        }
    }

    private ConsumerStatus Status(IActorRef consumer)
    {
        consumer.Tell(GetConsumerStatus.Instance);
        return ExpectMsg<ConsumerStatus>();
    }

    private int Release(IActorRef consumer)
    {
        consumer.Tell(ReleaseHeld.Instance);
        return ExpectMsg<HeldReleased>().Released;
    }
}

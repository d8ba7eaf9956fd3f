using Akka.TestKit;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class FaultSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    // How long a wait for the runtime may take: TestKit's default of 3 s is shorter than a loaded CI machine can
    // take to carry a few packets through the actors (an upper bound on time only loosens nothing when it is this
    // far above what an idle machine needs, tens of milliseconds).
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public void A_failed_map_during_the_ring_fill_is_retried_and_every_frame_still_arrives()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        var consumer = device.OpenConsumer([DeviceUnderTest.Flow(0)]);
        device.Faults.FailNextMap();
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(0), count: 10);

        AwaitAssert(() => Assert.Equal(10, consumer.Status().Read), Patience);
        Assert.Equal(1, device.Pools[0].GetStats().MapFailures);
        AssertCleanEnd(device);
    }

    [Fact]
    public void A_refused_page_allocation_during_the_ring_fill_is_retried_and_every_frame_still_arrives()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        var consumer = device.OpenConsumer([DeviceUnderTest.Flow(0)]);
        device.Faults.FailNextAllocation();
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(0), count: 10);

        AwaitAssert(() => Assert.Equal(10, consumer.Status().Read), Patience);
        Assert.Equal(1, device.Pools[0].GetStats().ProviderFailures);
        AssertCleanEnd(device);
    }

    [Fact]
    public void A_driver_crashed_at_its_next_poll_is_restarted_and_loses_no_frame_and_no_page()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        var consumer = device.OpenConsumer([DeviceUnderTest.Flow(0)], ConsumerBehavior.HoldUntilReleased);
        device.Bind();

        // A driver with nothing on its wire sleeps until a frame raises its queue's interrupt: the frames wake it, and
        // the poll they start is the one that crashes.
        EventFilter.Exception<Exception>(contains: "crashed the driver at this poll").ExpectOne(Patience, () =>
        {
            device.Faults.CrashDriverAtNextPoll();
            device.Inject(DeviceUnderTest.Flow(0), count: 50);
        });

        AwaitAssert(() => Assert.Equal(50, consumer.Status().Held), Patience);
        Assert.NotNull(device.Status().Driver);
        device.AssertInflightEquals(50);
        consumer.ReleaseHeld();
        AssertCleanEnd(device);
    }

    [Fact]
    public void A_consumer_crashed_on_its_next_packet_gives_back_everything_it_held_and_its_successor_reads_what_comes_next()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        var consumer = device.OpenConsumer([DeviceUnderTest.Flow(0)], ConsumerBehavior.HoldUntilReleased, name: "fragile");
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 10);
        AwaitAssert(() => Assert.Equal(10, consumer.Status().Held), Patience);

        device.Faults.CrashConsumerOnNextPacket(consumer);
        EventFilter.Exception<Exception>(contains: "consumer 'fragile' crashed on packet 11").ExpectOne(Patience, () => device.Inject(DeviceUnderTest.Flow(0), count: 5));

        // The crashed incarnation's socket closed with it: the 10 it held and the 4 still queued all came back.
        device.AssertInflightEquals(0);
        // Answered by the successor once it has started, its flow bound again: the next frames find its socket.
        Assert.Equal(0, consumer.Status().Read);
        device.Inject(DeviceUnderTest.Flow(0), count: 5);
        AwaitAssert(() => Assert.Equal(5, consumer.Status().Held), Patience);
        device.AssertInflightEquals(5);
        consumer.ReleaseHeld();
        AssertCleanEnd(device);
    }

    private static void AssertCleanEnd(DeviceUnderTest device)
    {
        UnbindReport report = device.Unbind();
        device.AssertUnboundClean(report);
        device.AssertNoIommuViolation();
        device.AssertNoPageLeaked();
    }
}

using Akka.Actor;
using Netmem.Pool;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class LeakAssertionSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly DeviceUnderTestOptions Fast = new() { SettleTime = TimeSpan.FromMilliseconds(300) };

    [Fact]
    public void A_consumer_that_disposes_every_packet_leaks_no_page()
    {
        var device = DeviceUnderTest.StartSimulated(this, Fast);
        var read = CreateTestProbe();
        device.Route(DeviceUnderTest.Flow(0), Sys.ActorOf(Props.Create(() => new DisposingConsumer(read.Ref))));
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(0), count: 50);
        read.FishForMessage<int>(n => n == 50, TimeSpan.FromSeconds(15));

        device.AssertNoPageLeaked();
    }

    [Fact]
    public void A_consumer_that_never_disposes_a_packet_fails_the_leak_assertion_naming_each_page_and_where_it_was_allocated()
    {
        var device = DeviceUnderTest.StartSimulated(this, Fast);
        var read = CreateTestProbe();
        device.Route(DeviceUnderTest.Flow(0), Sys.ActorOf(Props.Create(() => new NeverDisposingConsumer(read.Ref))));
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(0), count: 7);
        read.FishForMessage<int>(n => n == 7, TimeSpan.FromSeconds(15));

        var failure = Assert.Throws<ScenarioAssertionException>(device.AssertNoPageLeaked);
        Output?.WriteLine(failure.Message);
        Assert.StartsWith("eth0: 7 page(s) lent over the device's life are still held outside the RX rings", failure.Message);
        Assert.Contains("of pool eth0-rx0", failure.Message);
        Assert.Contains("allocated at:", failure.Message);
        Assert.Contains("at Netmem.Driver.RxQueue.Fill()", failure.Message);
        Assert.Contains("route 'route-1' handed 7 packet(s) to akka://test/user/$", failure.Message);
        Assert.Contains("… and 2 more", failure.Message);
    }

    [Fact]
    public void A_leak_scope_ignores_pages_out_before_it_began_and_names_the_one_lent_within_it_with_the_tests_own_line()
    {
        var device = DeviceUnderTest.StartSimulated(this, Fast);
        BindAndWaitUntilTheRingIsFull(device);
        NetmemRef before = device.Pools[0].Allocate();

        LeakScope scope = device.BeginLeakScope();
        NetmemRef returned = device.Pools[0].Allocate();
        device.Pools[0].Return(returned);
        scope.AssertNoPageLeaked();
        NetmemRef forgotten = AllocateAndForget(device.Pools[0]);

        var failure = Assert.Throws<ScenarioAssertionException>(scope.AssertNoPageLeaked);
        Output?.WriteLine(failure.Message);
        Assert.StartsWith("eth0: 1 page(s) lent since the leak scope began are still held", failure.Message);
        Assert.Contains(forgotten.ToString(), failure.Message);
        Assert.Contains(nameof(AllocateAndForget), failure.Message);
        Assert.DoesNotContain(before.ToString(), failure.Message);
    }

    [Fact]
    public void Without_allocation_sites_the_leak_assertion_still_names_the_page_and_says_capture_is_off()
    {
        var device = DeviceUnderTest.StartSimulated(this, Fast with { CaptureAllocationSites = false });
        BindAndWaitUntilTheRingIsFull(device);
        NetmemRef held = device.Pools[0].Allocate();

        var failure = Assert.Throws<ScenarioAssertionException>(device.AssertNoPageLeaked);

        Assert.Contains($"{held} of pool eth0-rx0, allocation site not captured", failure.Message);
    }

    private static NetmemRef AllocateAndForget(PagePool pool) => pool.Allocate();

    // The driver fills its RX ring from the pool just after the bind, as the pool's owner. These specs then allocate
    // from the test's thread, which is the owner's role too, so they wait until the ring is full: with no traffic the
    // driver allocates nothing more, and the two never use the owner's side of the pool at once.
    private static void BindAndWaitUntilTheRingIsFull(DeviceUnderTest device)
    {
        device.Bind();
        int ringSize = new DeviceUnderTestOptions().RingSize;
        long deadline = Environment.TickCount64 + 10_000;
        while (device.Pools[0].GetOutstandingAllocations().Count < ringSize || device.OutsideRings().Count > 0)
        {
            Assert.True(Environment.TickCount64 < deadline, "the driver did not fill its RX ring within 10 s");
            Thread.Sleep(5);
        }
    }
}

using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class InflightAssertionSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [Fact]
    public void Hold_minus_release_equals_what_a_holding_consumer_holds_while_bound_and_after_unbind()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions { Queues = 2 });
        var holder = device.OpenConsumer([DeviceUnderTest.Flow(0), DeviceUnderTest.Flow(1)], ConsumerBehavior.HoldUntilReleased);
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 60);
        device.Inject(DeviceUnderTest.Flow(1), count: 40);

        device.AssertInflightEquals(100);
        UnbindReport report = device.Unbind();
        device.AssertInflightEquals(100);

        Assert.Equal(100, report.StillHeld);
        Assert.Equal(100, holder.ReleaseHeld());
        device.AssertInflightEquals(0);
        device.AssertNoPageLeaked();
    }

    [Fact]
    public void A_test_that_miscounts_what_it_holds_fails_the_accounting_assertion_with_the_difference_in_words()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions { SettleTime = TimeSpan.FromMilliseconds(300) });
        var holder = device.OpenConsumer([DeviceUnderTest.Flow(0)], ConsumerBehavior.HoldUntilReleased, name: "holder");
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 10);
        AwaitAssert(() => Assert.Equal(10, holder.Status().Held), TimeSpan.FromSeconds(15));

        var tooFew = Assert.Throws<ScenarioAssertionException>(() => device.AssertInflightEquals(9));
        var tooMany = Assert.Throws<ScenarioAssertionException>(() => device.AssertInflightEquals(11));
        Output?.WriteLine(tooFew.Message);

        Assert.StartsWith("eth0: hold − release says 10 page(s) are out (eth0-rx0: 10), but the test holds 9: 1 page(s) more than the test holds are out", tooFew.Message);
        Assert.Contains("consumer 'holder' holds 10 packet(s)", tooFew.Message);
        Assert.Contains("1 page(s) the test believes it holds were already given back", tooMany.Message);
        holder.ReleaseHeld();
        device.AssertInflightEquals(0);
    }
}

using Akka.Actor;
using Akka.TestKit.TestActors;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class VirtualTimeSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(DeviceUnderTest.VirtualTime, output)
{
    [Fact]
    public void A_quiesce_timeout_fires_when_the_test_advances_time_past_it_and_not_a_minute_before()
    {
        var driver = CreateTestProbe();
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions
        {
            Customize = d => d with { QuiesceTimeout = TimeSpan.FromHours(1), DriverProps = _ => Props.Create(() => new ForwardActor(driver.Ref)) },
        });
        device.Bind();
        var requester = CreateTestProbe();

        device.Supervisor.Tell(Unbind.Instance, requester);
        driver.ExpectMsg<Quiesce>();
        device.AdvanceTime(TimeSpan.FromMinutes(59));
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        device.AdvanceTime(TimeSpan.FromMinutes(1));
        UnbindReport report = requester.ExpectMsg<Unbound>().Report;

        device.AssertUnboundTimedOutIn(report, UnbindPhase.Quiesce);
        device.AssertNoIommuViolation();
    }

    [Fact]
    public void Injected_frames_reach_the_stack_on_virtual_time_with_the_driver_polling_only_as_time_is_advanced()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions { Queues = 2 });
        var consumer = device.OpenConsumer([DeviceUnderTest.Flow(0), DeviceUnderTest.Flow(1)]);
        device.Bind();

        device.Inject(DeviceUnderTest.Flow(0), count: 30);
        device.Inject(DeviceUnderTest.Flow(1), count: 30);

        AwaitAssert(() => Assert.Equal(60, consumer.Status().Read), TimeSpan.FromSeconds(15));
        device.AssertUnboundClean(device.Unbind());
        device.AssertNoPageLeaked();
    }
}

using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

/// <summary>Phase timeouts on Akka's <see cref="TestScheduler"/>: virtual time decides, not the wall clock.</summary>
public sealed class VirtualTimePhaseTimeoutSpecs(ITestOutputHelper output)
    : TestKit(@"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""", output)
{
    [Fact]
    public void A_quiesce_timeout_fires_exactly_when_its_time_has_passed_and_not_before()
    {
        var scheduler = (TestScheduler)Sys.Scheduler;
        var driver = CreateTestProbe();
        var device = DeviceHarness.StartBound(this, new HarnessOptions
        {
            Customize = d => d with { QuiesceTimeout = TimeSpan.FromHours(1), DriverProps = _ => ProbeDriver.Props(driver.Ref) },
        });
        var requester = CreateTestProbe();
        device.Device.Tell(Unbind.Instance, requester);
        driver.ExpectMsg<Quiesce>();

        scheduler.Advance(TimeSpan.FromMinutes(59));
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(DeviceState.Unbinding, device.Status().State);

        scheduler.Advance(TimeSpan.FromMinutes(1));
        UnbindReport report = requester.ExpectMsg<Unbound>(DeviceHarness.Patience).Report;

        Assert.Equal([UnbindPhase.Quiesce], report.TimedOutPhases);
        Assert.Equal([UnbindPhase.Quiesce, UnbindPhase.CloseReceive, UnbindPhase.DestroyPools, UnbindPhase.TeardownDomain], report.Phases.Select(p => p.Phase));
        device.AssertIommuClean(report);
    }
}

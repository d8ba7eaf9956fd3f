using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class PhaseTimeoutSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_driver_that_never_acknowledges_quiesce_times_the_phase_out_and_the_unbind_still_completes()
    {
        var driver = CreateTestProbe();
        var device = DeviceHarness.StartBound(this, new HarnessOptions
        {
            Customize = d => d with
            {
                QuiesceTimeout = TimeSpan.FromMilliseconds(300),
                DriverProps = _ => ProbeDriver.Props(driver.Ref),
            },
        });

        var requester = CreateTestProbe();
        device.Device.Tell(Unbind.Instance, requester);
        driver.ExpectMsg<Quiesce>();
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(150));
        UnbindReport report = requester.ExpectMsg<Unbound>(DeviceHarness.Patience).Report;

        Assert.Equal([UnbindPhase.Quiesce], report.TimedOutPhases);
        Assert.Equal(UnbindPhaseOutcome.TimedOut, report.Phases[0].Outcome);
        Assert.Equal([UnbindPhaseOutcome.Completed, UnbindPhaseOutcome.Completed], report.Phases.Skip(1).Select(p => p.Outcome));
        Assert.False(report.IsClean);
        Assert.Equal(2, report.Pools.Count);
        device.AssertIommuClean(report);
        device.AssertEveryPageCameBack();
    }
}

extern alias netmemtestkit;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using netmemtestkit::Netmem.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class PhaseTimeoutSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_driver_that_never_acknowledges_quiesce_times_the_phase_out_and_the_unbind_still_completes()
    {
        var driver = CreateTestProbe();
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions
        {
            Queues = 2,
            Customize = d => d with { QuiesceTimeout = TimeSpan.FromMilliseconds(300), DriverProps = _ => ProbeDriver.Props(driver.Ref) },
        });
        device.Bind();

        var requester = CreateTestProbe();
        device.Supervisor.Tell(Unbind.Instance, requester);
        driver.ExpectMsg<Quiesce>();
        UnbindReport report = requester.ExpectMsg<Unbound>(TimeSpan.FromSeconds(15)).Report;

        // Not sent before the driver had its whole timeout to answer (a lower bound, which no load can break).
        Assert.True(report.Duration >= TimeSpan.FromMilliseconds(300), $"Unbound after {report.Duration.TotalMilliseconds} ms");
        device.AssertUnboundTimedOutIn(report, UnbindPhase.Quiesce);
        Assert.Equal(
            [(UnbindPhase.CloseReceive, UnbindPhaseOutcome.Completed), (UnbindPhase.DestroyPools, UnbindPhaseOutcome.Completed), (UnbindPhase.TeardownDomain, UnbindPhaseOutcome.Completed)],
            report.Phases.Skip(1).Select(p => (p.Phase, p.Outcome)));
        Assert.Equal(2, report.Pools.Count);
        device.AssertNoIommuViolation();
        device.AssertNoPageLeaked();
    }
}

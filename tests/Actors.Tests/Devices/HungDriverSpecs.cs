extern alias netmemtestkit;
using System.Runtime.CompilerServices;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using netmemtestkit::Netmem.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class HungDriverSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_driver_hung_in_its_allocation_loop_is_destroyed_around_and_the_unbind_is_still_clean()
    {
        var allocations = new StrongBox<long>();
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions
        {
            Queues = 2,
            CaptureAllocationSites = false,
            Customize = d => d with { QuiesceTimeout = TimeSpan.FromMilliseconds(200), DriverProps = setup => HungDriver.Props(setup, allocations) },
        });
        device.Bind();
        AwaitAssert(() => Assert.True(Interlocked.Read(ref allocations.Value) > 10_000));

        UnbindReport report = device.Unbind();

        device.AssertUnboundTimedOutIn(report, UnbindPhase.Quiesce);
        Assert.All(report.Phases.Skip(1), p => Assert.Equal(UnbindPhaseOutcome.Completed, p.Outcome));
        device.AssertNoIommuViolation();
        device.AssertNoPageLeaked();
    }
}

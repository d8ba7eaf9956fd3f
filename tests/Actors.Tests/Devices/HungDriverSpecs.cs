using System.Runtime.CompilerServices;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class HungDriverSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_driver_hung_in_its_allocation_loop_is_destroyed_around_and_the_unbind_is_still_clean()
    {
        var allocations = new StrongBox<long>();
        var device = DeviceHarness.StartBound(this, new HarnessOptions
        {
            Customize = d => d with
            {
                QuiesceTimeout = TimeSpan.FromMilliseconds(200),
                DriverProps = setup => HungDriver.Props(setup, allocations),
            },
        });
        device.AwaitAssert(() => Assert.True(Interlocked.Read(ref allocations.Value) > 10_000));

        UnbindReport report = device.Unbind();

        Assert.Equal([UnbindPhase.Quiesce], report.TimedOutPhases);
        Assert.Equal([UnbindPhaseOutcome.Completed, UnbindPhaseOutcome.Completed], report.Phases.Skip(1).Select(p => p.Outcome));
        device.AssertIommuClean(report);
        device.AssertEveryPageCameBack();
    }
}

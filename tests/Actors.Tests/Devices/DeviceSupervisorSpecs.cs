using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class DeviceSupervisorSpecs(ITestOutputHelper output) : TestKit(output: output)
{

    [Fact]
    public void A_device_never_bound_answers_Unbind_with_an_empty_report()
    {
        var device = DeviceHarness.Start(this, new HarnessOptions());

        UnbindReport report = device.Unbind();

        Assert.Equal(0, report.Generation);
        Assert.Empty(report.Phases);
        Assert.Empty(report.Pools);
        Assert.Equal(DeviceState.Unbound, device.Status().State);
    }

    [Fact]
    public void A_bind_during_an_unbind_waits_for_Unbound_and_then_binds_a_new_generation()
    {
        var driver = CreateTestProbe();
        // The quiesce waits for the test's answer, however long the machine takes to get there.
        var device = DeviceHarness.StartBound(this, new HarnessOptions
        {
            Customize = d => d with { QuiesceTimeout = TimeSpan.FromHours(1), DriverProps = _ => ProbeDriver.Props(driver.Ref) },
        });
        var requester = CreateTestProbe();

        device.Device.Tell(Unbind.Instance, requester);
        driver.ExpectMsg<Quiesce>();
        device.Device.Tell(Bind.Instance, requester);
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(DeviceState.Unbinding, device.Status().State);
        driver.Reply(new Quiesced("eth0", 0));

        Unbound unbound = requester.ExpectMsg<Unbound>(DeviceHarness.Patience);
        Bound bound = requester.ExpectMsg<Bound>(DeviceHarness.Patience);

        Assert.Equal(UnbindPhaseOutcome.Completed, unbound.Report.Phases[0].Outcome);
        Assert.Equal(1, unbound.Report.Generation);
        Assert.Equal(2, bound.Generation);
        Assert.True(device.Iommu.IsBound);
        Assert.Equal(DeviceState.Bound, device.Status().State);
        Assert.Empty(device.Iommu.Violations);
    }

    [Fact]
    public void A_quiesce_acknowledged_after_its_phase_timed_out_changes_nothing()
    {
        var driver = CreateTestProbe();
        var device = DeviceHarness.StartBound(this, new HarnessOptions
        {
            Customize = d => d with { QuiesceTimeout = TimeSpan.FromMilliseconds(200), DriverProps = _ => ProbeDriver.Props(driver.Ref) },
        });
        var requester = CreateTestProbe();
        device.Device.Tell(Unbind.Instance, requester);
        driver.ExpectMsg<Quiesce>();
        UnbindReport report = requester.ExpectMsg<Unbound>(DeviceHarness.Patience).Report;

        driver.Reply(new Quiesced("eth0", 99));
        device.Device.Tell(Unbind.Instance, requester);

        Assert.Same(report, requester.ExpectMsg<Unbound>().Report);
        Assert.Equal(0, report.RingPagesReturned);
        Assert.Equal(DeviceState.Unbound, device.Status().State);
    }

    [Fact]
    public void A_bind_with_invalid_pool_options_is_refused_and_leaves_the_device_unbound_with_no_mapping()
    {
        var device = DeviceHarness.Start(this, new HarnessOptions
        {
            Customize = d => d with { PoolOptions = queue => new Pool.PagePoolOptions { PoolSize = queue == 0 ? 1024 : 3 } },
        });
        var requester = CreateTestProbe();

        device.Device.Tell(Bind.Instance, requester);
        var failure = requester.ExpectMsg<Akka.Actor.Status.Failure>(DeviceHarness.Patience);

        Assert.IsType<ArgumentOutOfRangeException>(failure.Cause);
        Assert.Equal(DeviceState.Unbound, device.Status().State);
        Assert.Empty(device.Status().Pools);
        Assert.Equal(0, device.Iommu.LiveMappingCount);
        Assert.Empty(device.Iommu.Violations);
    }
}

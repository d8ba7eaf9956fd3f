extern alias netmemtestkit;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using netmemtestkit::Netmem.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class StuckDriverSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private static readonly TimeSpan QuiesceTimeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_driver_stuck_inside_the_device_past_its_quiesce_keeps_its_posted_pages_mapped_until_the_supervisor_has_closed_the_receive_side()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions
        {
            RingSize = 128,
            Customize = d => d with { QuiesceTimeout = QuiesceTimeout },
        });
        var holder = device.OpenConsumer([DeviceUnderTest.Flow(0)], ConsumerBehavior.HoldUntilReleased);
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 400);

        // The driver's next reap, which the next frames wake it for, hangs inside the device; the frames wait on the
        // wire meanwhile, and the hardware writes them into posted pages when the reap comes back.
        using HeldDeviceCall reap = device.Faults.HoldDriverInDeviceAtNextReap();
        Task waiting = Task.Run(() => device.Inject(DeviceUnderTest.Flow(0), count: 20));
        await reap.Entered.WaitAsync(TimeSpan.FromSeconds(15));
        Task<Unbound> unbound = device.Supervisor.Ask<Unbound>(Unbind.Instance, TimeSpan.FromSeconds(60));

        // The unbind has given up on the driver and waits for its call inside the device, naming it.
        AwaitAssert(() => Assert.Contains("ReapFrames on rx0", device.Status().WaitingFor ?? ""), TimeSpan.FromSeconds(15));
        reap.Release();
        UnbindReport report = (await unbound).Report;
        Output?.WriteLine(string.Join(Environment.NewLine, report.Phases));

        // No frame was written into a page whose mapping destroy had already removed.
        device.AssertNoIommuViolation();

        Assert.Equal([UnbindPhase.Quiesce, UnbindPhase.CloseReceive, UnbindPhase.DestroyPools, UnbindPhase.TeardownDomain], report.Phases.Select(p => p.Phase));
        Assert.Equal(UnbindPhaseOutcome.TimedOut, report.Phases[0].Outcome);
        Assert.NotEqual(UnbindPhaseOutcome.Failed, report.Phases[1].Outcome);
        Assert.All(report.Phases.Skip(2), p => Assert.Equal(UnbindPhaseOutcome.Completed, p.Outcome));
        await waiting.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(420, holder.ReleaseHeld());
        device.AssertNoPageLeaked();
    }
}

using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Devices;

public sealed class CrashSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_consumer_that_crashes_while_holding_pages_gives_them_all_back()
    {
        const int frames = 1_500;
        int crashed = 0;
        var device = DeviceHarness.Start(this, new HarnessOptions { Queues = 1, Flows = 1, FramesPerQueue = frames, FramesPerSecond = 0 });
        var consumer = device.OpenConsumer("fragile", [0], new ConsumerBehavior
        {
            HoldTime = null,
            OnPacketRead = read =>
            {
                if (read == 1_000 && Interlocked.Exchange(ref crashed, 1) == 0)
                {
                    throw new InvalidOperationException("consumer crashed holding 1000 packets");
                }
            },
        });
        device.Bind();

        // The restarted consumer holds only what arrived after the crash; the crashed one's 1000 pages came back.
        device.AwaitAssert(() =>
        {
            ConsumerStatus status = device.StatusOf(consumer);
            Assert.Equal(frames, device.FramesSent);
            Assert.Equal(64 + status.Held + status.Queued, device.PagesLent);
        });
        Assert.Equal(1, crashed);
        ConsumerStatus after = device.StatusOf(consumer);
        Assert.True(after.Held < frames - 900, $"the restarted consumer holds {after.Held}");

        UnbindReport report = device.Unbind();

        device.AssertIommuClean(report);
        Assert.Equal(report.StillHeld, device.PoolInflight);
        Assert.Equal(after.Held + after.Queued, report.StillHeld);
        device.Release(consumer);
        device.AssertEveryPageCameBack();
    }

    [Fact]
    public void A_driver_that_crashes_mid_poll_is_restarted_without_losing_a_page_and_one_that_crashes_during_unbind_still_ends_in_a_complete_unbind()
    {
        var device = DeviceHarness.Start(this, new HarnessOptions { Queues = 1, Flows = 2, FramesPerQueue = 5_000, FramesPerSecond = 50_000, CrashOnFrame = 1_000 });
        var consumer = device.OpenConsumer("holder", [0, 1], ConsumerBehavior.HoldUntilReleased);
        device.Bind();

        // Mid-poll: the crash drops the half-built batch back into the pool; the restarted driver refills and goes on.
        device.AwaitAssert(() => Assert.True(device.StatusOf(consumer).Held > 2_000));
        Assert.Equal(1, device.Sources[0].Crashes);
        Assert.NotNull(device.Status().Driver);

        // During unbind: stopping the wire throws, so the driver crashes instead of acknowledging the quiesce.
        device.Sources[0].CrashOnStop = true;
        UnbindReport report = device.Unbind();

        Assert.Equal(2, device.Sources[0].Crashes);
        Assert.Equal(UnbindPhaseOutcome.DriverStopped, report.Phases[0].Outcome);
        Assert.All(report.Phases.Skip(1), p => Assert.Equal(UnbindPhaseOutcome.Completed, p.Outcome));
        Assert.True(report.IsClean);
        device.AssertIommuClean(report);
        device.AwaitAssert(() => Assert.Equal(device.StatusOf(consumer).Held + device.StatusOf(consumer).Queued, device.PoolInflight));
        Assert.Equal(report.StillHeld, device.PoolInflight);
        device.Release(consumer);
        device.AssertEveryPageCameBack();
    }

    [Fact]
    public void A_driver_that_crashes_more_often_than_allowed_stays_stopped_and_the_unbind_skips_its_quiesce()
    {
        var device = DeviceHarness.Start(this, new HarnessOptions
        {
            Queues = 1,
            Flows = 1,
            FramesPerQueue = 1_000,
            CrashOnFrame = 100,
            Customize = d => d with { MaxDriverRestarts = 0 },
        });
        var consumer = device.OpenConsumer("holder", [0], ConsumerBehavior.HoldUntilReleased);
        device.Bind();

        device.AwaitAssert(() => Assert.Null(device.Status().Driver));
        Assert.Equal(DeviceState.Bound, device.Status().State);
        device.AwaitAssert(() =>
        {
            ConsumerStatus status = device.StatusOf(consumer);
            Assert.Equal(status.Held + status.Queued, device.PagesLent);
        });
        UnbindReport report = device.Unbind();

        Assert.Equal(UnbindPhaseOutcome.DriverStopped, report.Phases[0].Outcome);
        Assert.Contains("already stopped", report.Phases[0].Detail);
        device.AssertIommuClean(report);
        Assert.Equal(report.StillHeld, device.PoolInflight);
        device.Release(consumer);
        device.AssertEveryPageCameBack();
    }
}

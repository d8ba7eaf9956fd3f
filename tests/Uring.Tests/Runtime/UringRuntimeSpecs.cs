using Akka.TestKit.Xunit2;
using Netmem.Actors.Protocol;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.TestSupport;
using Netmem.Uring.Traffic;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// The unbind protocol of DESIGN §4 on the real device: the kernel writes the frames, the runtime's actors carry
/// them, and the oracle in front of the device and the kernel's own unpin confirmations judge the result.
/// </summary>
public sealed class UringRuntimeSpecs : TestKit
{
    private readonly ITestOutputHelper _output;

    public UringRuntimeSpecs(ITestOutputHelper output)
        : base(output: output)
    {
        _output = output;
    }

    [PrivilegedFact]
    public void An_unbind_while_a_consumer_holds_pages_the_kernel_wrote_unmaps_each_before_Unbound_and_they_come_back_after()
    {
        const int count = 1_000;
        using var runtime = UringRuntimeHarness.Start(this, "uring-held");
        var holder = runtime.OpenConsumer("holder", [0, 1, 2, 3], ConsumerBehavior.HoldUntilReleased);
        runtime.Bind();

        UdpTrafficReport sent = runtime.Send(firstFlow: 0, flows: 4, count, packetsPerSecond: 20_000);
        Assert.Equal(count, sent.Sent);
        runtime.AwaitAssert(() => Assert.Equal(count, runtime.StatusOf(holder).Held));
        Assert.Equal(count, runtime.Counters.FramesReceived);

        UnbindReport report = runtime.Unbind();

        Assert.True(report.IsClean, $"unbind not clean: {string.Join(", ", report.Phases)}");
        Assert.Equal(count, report.UnmappedByDestroy);
        Assert.Equal(count, report.StillHeld);
        Assert.Equal(0, report.RevokedWithDomain);
        Assert.Equal(count, runtime.StatusOf(holder).Held);
        Assert.Equal(count, runtime.PoolInflight);
        DmaOracle oracle = runtime.Device.Current.Oracle;
        Assert.Equal(0, oracle.LiveAtTeardown);
        Assert.Equal(0, runtime.Counters.RevokedAtTeardown);
        runtime.AssertDeviceClean(report);

        long calls = oracle.Calls;
        Assert.Equal(count, runtime.Release(holder).Released);
        runtime.AssertEveryPageCameBack();
        Assert.Equal(calls, oracle.Calls);
        Assert.Equal(count, runtime.Pools.Sum(p => p.GetStats().LateReturns));
    }

    [PrivilegedFact]
    public void A_driver_that_crashes_mid_receive_is_restarted_loses_no_page_and_receives_everything_sent_after()
    {
        const int firstWave = 2_000;
        const int secondWave = 1_000;
        using var runtime = UringRuntimeHarness.Start(this, "uring-crash");
        var first = runtime.OpenConsumer("first", [0, 1], ConsumerBehavior.ReleaseAtOnce);
        var second = runtime.OpenConsumer("second", [2], ConsumerBehavior.ReleaseAtOnce);
        runtime.Device.Faults.ArmReapCrash(afterFrames: 200);
        runtime.Bind();

        Assert.Equal(firstWave, runtime.Send(firstFlow: 0, flows: 2, firstWave, packetsPerSecond: 20_000).Sent);
        runtime.AwaitAssert(() =>
        {
            Assert.Equal(1, runtime.Device.Faults.ReapCrashes);
            Assert.Equal(2, runtime.Device.Current.RxOpens);
        });
        Assert.Equal(secondWave, runtime.Send(firstFlow: 2, flows: 1, secondWave, packetsPerSecond: 20_000).Sent);
        runtime.AwaitAssert(() => Assert.Equal(secondWave, runtime.StatusOf(second).Read));

        // Every frame the kernel handed to a driver reached its consumer: none vanished between device and socket.
        // Frames the crashed incarnation had not reaped went back to the pool with its receive side (as a NIC
        // driver's ring contents do), so the first consumer may have fewer than were sent, never more.
        // The first consumer reads its own socket and may still be behind the second: the equation is awaited.
        runtime.AwaitAssert(() => Assert.Equal(runtime.Counters.FramesReceived, runtime.StatusOf(first).Read + secondWave));
        long firstRead = runtime.StatusOf(first).Read;
        Assert.InRange(firstRead, 200, firstWave);
        Assert.True(runtime.Counters.PagesReturnedByClose > 0, "the crashed incarnation's receive side gave no page back");
        Assert.Equal(1, runtime.Status().Generation);

        UnbindReport report = runtime.Unbind();

        Assert.True(report.IsClean, $"unbind not clean: {string.Join(", ", report.Phases)}");
        Assert.Equal(0, report.StillHeld);
        Assert.Equal(0, runtime.PoolInflight);
        runtime.AssertDeviceClean(report);
        runtime.AssertEveryPageCameBack();
    }

    [PrivilegedFact]
    public void A_device_unbound_bound_again_and_unbound_again_gets_new_registrations_and_ends_clean_both_times()
    {
        const int perBind = 500;
        using var runtime = UringRuntimeHarness.Start(this, "uring-rebind");
        var holder = runtime.OpenConsumer("holder", [0, 1], ConsumerBehavior.HoldUntilReleased);

        runtime.Bind();
        Assert.Equal(perBind, runtime.Send(firstFlow: 0, flows: 2, perBind, packetsPerSecond: 20_000).Sent);
        runtime.AwaitAssert(() => Assert.Equal(perBind, runtime.StatusOf(holder).Held));
        IReadOnlyList<PagePool> firstPools = runtime.Pools.ToArray();
        UnbindReport firstReport = runtime.Unbind();
        Assert.True(firstReport.IsClean);
        Assert.Equal(perBind, firstReport.UnmappedByDestroy);
        Assert.Equal(0, runtime.Counters.LiveSlots);

        Bound rebound = runtime.Bind();
        Assert.Equal(2, rebound.Generation);
        Assert.Empty(rebound.Pools.Select(p => p.Id).Intersect(firstPools.Select(p => p.Id)));
        Assert.NotNull(runtime.Device.Inner.CurrentBinding);
        Assert.Equal(perBind, runtime.Send(firstFlow: 0, flows: 2, perBind, packetsPerSecond: 20_000).Sent);
        runtime.AwaitAssert(() => Assert.Equal(2 * perBind, runtime.StatusOf(holder).Held));
        UnbindReport secondReport = runtime.Unbind();

        Assert.Equal(2, secondReport.Generation);
        Assert.True(secondReport.IsClean);
        Assert.Equal(perBind, secondReport.UnmappedByDestroy);
        Assert.Equal(2, runtime.Device.Binds.Count);
        Assert.All(runtime.Device.Binds, b => Assert.Equal(0, b.Oracle.LiveAtTeardown));
        Assert.Equal(2 * perBind, runtime.Counters.FramesReceived);
        Assert.Equal(2 * perBind, runtime.PoolInflight);
        runtime.AssertDeviceClean(secondReport);

        Assert.Equal(2 * perBind, runtime.Release(holder).Released);
        runtime.AssertEveryPageCameBack();
        Assert.All(firstPools, p => Assert.Equal(PagePoolState.Released, p.State));
    }

    [PrivilegedFact]
    public void A_burst_that_empties_a_small_buffer_ring_ends_the_multishot_receive_which_is_armed_again_and_traffic_goes_on()
    {
        const int burst = 2_000;
        const int after = 500;
        using var runtime = UringRuntimeHarness.Start(this, "uring-burst", ringSize: 16);
        var burstConsumer = runtime.OpenConsumer("burst", [0, 1, 2, 3], ConsumerBehavior.ReleaseAtOnce);
        var afterConsumer = runtime.OpenConsumer("after", [4], ConsumerBehavior.ReleaseAtOnce);
        runtime.Bind();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        UdpTrafficReport sent = runtime.Send(firstFlow: 0, flows: 4, burst, packetsPerSecond: 0);
        Assert.Equal(burst, sent.Sent);
        _output.WriteLine($"burst sent in {sent.Elapsed.TotalMilliseconds:F1} ms");
        // Quiet means the burst is over; frames reaped may still be on their way to the consumer, so the equation is awaited.
        runtime.AwaitQuiet(() => runtime.StatusOf(burstConsumer).Read);
        runtime.AwaitAssert(() => Assert.Equal(runtime.Counters.FramesReceived, runtime.StatusOf(burstConsumer).Read));
        _output.WriteLine($"burst delivered by {clock.ElapsedMilliseconds} ms");
        UringCounters afterBurst = runtime.Counters;
        Assert.True(afterBurst.EnobufsRearms > 0, "16 posted pages never ran out under the burst");
        Assert.True(afterBurst.ReceiveArms >= 1 + afterBurst.EnobufsRearms);

        Assert.Equal(after, runtime.Send(firstFlow: 4, flows: 1, after, packetsPerSecond: 10_000).Sent);
        runtime.AwaitAssert(() => Assert.Equal(after, runtime.StatusOf(afterConsumer).Read));
        _output.WriteLine($"second wave delivered by {clock.ElapsedMilliseconds} ms");
        runtime.AwaitAssert(() => Assert.Equal(runtime.Counters.FramesReceived, runtime.StatusOf(burstConsumer).Read + after));
        long burstRead = runtime.StatusOf(burstConsumer).Read;
        _output.WriteLine($"burst of {burst}: {burstRead} delivered, {afterBurst.EnobufsRearms} ENOBUFS re-arms; then {after} of {after}");

        UnbindReport report = runtime.Unbind();

        Assert.True(report.IsClean, $"unbind not clean: {string.Join(", ", report.Phases)}");
        Assert.Equal(0, report.StillHeld);
        runtime.AssertDeviceClean(report);
        runtime.AssertEveryPageCameBack();
    }
}

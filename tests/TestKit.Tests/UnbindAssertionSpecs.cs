using Netmem.Actors.Protocol;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class UnbindAssertionSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [Fact]
    public void An_unbind_under_held_pages_is_clean_and_the_clean_assertion_passes()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions { Queues = 2 });
        var holder = device.OpenConsumer([DeviceUnderTest.Flow(0), DeviceUnderTest.Flow(1)], ConsumerBehavior.HoldUntilReleased);
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 20);
        device.Inject(DeviceUnderTest.Flow(1), count: 20);

        UnbindReport report = device.Unbind();

        device.AssertUnboundClean(report);
        Assert.Equal(40, report.UnmappedByDestroy);
        Assert.Throws<ScenarioAssertionException>(() => device.AssertUnboundTimedOutIn(report, UnbindPhase.DestroyPools));
        holder.ReleaseHeld();
        device.AssertNoPageLeaked();
    }

    [Fact]
    public void A_destroy_slower_than_its_timeout_fails_the_clean_assertion_naming_the_phase_and_passes_the_timed_out_one()
    {
        var device = DeviceUnderTest.StartSimulated(this, new DeviceUnderTestOptions
        {
            Customize = d => d with { DestroyTimeout = TimeSpan.FromMilliseconds(200) },
        });
        var holder = device.OpenConsumer([DeviceUnderTest.Flow(0)], ConsumerBehavior.HoldUntilReleased);
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 200);

        // 200 held pages at 25 ms per unmap make a destroy of 5 s against its 200 ms timeout, so the phase times out
        // however late a loaded machine delivers the phase timer (at 5 ms per unmap, a timer a second late once saw
        // the whole destroy finish first). The revocation ends the slow unmaps, so the spec does not wait them out.
        device.Faults.SlowUnmapsUntilTeardown(TimeSpan.FromMilliseconds(25));
        UnbindReport report = device.Unbind();

        var failure = Assert.Throws<ScenarioAssertionException>(() => device.AssertUnboundClean(report));
        Output?.WriteLine(failure.Message);
        Assert.StartsWith("eth0: unbind #1 was not clean: phases: Quiesce Completed", failure.Message);
        Assert.Contains("DestroyPools TimedOut", failure.Message);
        Assert.Contains("page(s) revoked with the domain", failure.Message);
        device.AssertUnboundTimedOutIn(report, UnbindPhase.DestroyPools);
        var wrongPhase = Assert.Throws<ScenarioAssertionException>(() => device.AssertUnboundTimedOutIn(report, UnbindPhase.Quiesce));
        Assert.Contains("expected to time out in Quiesce only, but DestroyPools timed out", wrongPhase.Message);
        Assert.True(report.RevokedWithDomain > 0, "the slow destroy revoked nothing");
        Assert.Equal(200, report.StillHeld);
        Assert.All(report.Pools, pool => Assert.Equal(
            pool.InflightAtDestroy,
            pool.ReleasedFromCache + pool.ReleasedFromRing + pool.UnmappedByDestroy + pool.RevokedWithDomain + pool.StillInflight));
        device.AssertNoIommuViolation();
        holder.ReleaseHeld();
        device.AssertNoPageLeaked();
    }
}

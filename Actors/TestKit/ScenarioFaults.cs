using Netmem.TestKit.Internal;

namespace Netmem.TestKit;

/// <summary>
/// One fault at a chosen point, through the same seams the chaos runner uses: each call arms one fault, which the
/// next matching operation takes. Nothing fails unless armed.
/// </summary>
public sealed class ScenarioFaults
{
    private readonly FaultSwitches _switches;

    internal ScenarioFaults(FaultSwitches switches) => _switches = switches;

    /// <summary>
    /// The next DMA map of any of the device's pools throws <see cref="Pool.Dma.DmaMapException"/>. Pages recycle
    /// mapped, so the next map is usually the first of a bind's ring fill: arm it before <see cref="DeviceUnderTest.Bind"/>.
    /// </summary>
    public void FailNextMap() => _switches.ArmMapFailure();

    /// <summary>
    /// The next page any of the device's pools asks its memory for is refused (the pool sees an exhausted provider).
    /// Like a map, a fresh page is needed mostly when a bind fills its rings: arm it before <see cref="DeviceUnderTest.Bind"/>.
    /// </summary>
    public void FailNextAllocation() => _switches.ArmAllocationFailure();

    /// <summary>
    /// The driver throws at its next poll of any RX queue, before it takes a frame (none is lost); it is restarted as
    /// the device's options allow.
    /// </summary>
    public void CrashDriverAtNextPoll() => _switches.ArmPollCrash();

    /// <summary>
    /// From now until the device's domain is torn down, every unmap takes <paramref name="perUnmap"/>: with pages
    /// held at unbind, the destroy takes about pages × <paramref name="perUnmap"/>, so it outlives a shorter
    /// <c>DestroyTimeout</c> and the unbind must revoke the rest. Arm it just before the unbind.
    /// </summary>
    public void SlowUnmapsUntilTeardown(TimeSpan perUnmap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(perUnmap, TimeSpan.Zero);
        _switches.SlowUnmapsUntilTeardown(perUnmap);
    }

    /// <summary>
    /// The driver's next reap of any RX queue stays inside the device (a driver stuck in a hung device call) until
    /// the returned call is released; then the device writes the frames waiting on the wire into the posted pages and
    /// the reap returns them. Held past the device's <c>QuiesceTimeout</c>, it makes an unbind close the receive side
    /// itself, waiting for the reap, before any page is unmapped.
    /// </summary>
    public HeldDeviceCall HoldDriverInDeviceAtNextReap() => _switches.ArmReapHold();

    /// <summary>The consumer throws as it reads its next packet (while holding everything it held): the stack restarts it.</summary>
    public void CrashConsumerOnNextPacket(ScenarioConsumer consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        consumer.CrashOnNextPacket();
    }
}

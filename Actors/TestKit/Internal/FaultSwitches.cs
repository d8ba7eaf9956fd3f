namespace Netmem.TestKit.Internal;

/// <summary>
/// The one-shot faults a scenario armed, read by the device decorators on the threads that make the calls (the
/// driver's poll loop, the pools' map and unmap paths, the memory provider). Each switch is taken by exactly one call.
/// </summary>
internal sealed class FaultSwitches
{
    private int _failNextMap;
    private int _failNextAllocation;
    private int _crashNextPoll;
    private long _unmapLatencyTicks;
    private HeldDeviceCall? _reapHold;

    public void ArmMapFailure() => Volatile.Write(ref _failNextMap, 1);

    public void ArmAllocationFailure() => Volatile.Write(ref _failNextAllocation, 1);

    public void ArmPollCrash() => Volatile.Write(ref _crashNextPoll, 1);

    public void SlowUnmapsUntilTeardown(TimeSpan perUnmap) => Interlocked.Exchange(ref _unmapLatencyTicks, perUnmap.Ticks);

    /// <summary>Arms a hold of the next reap, which the returned call takes and then waits on.</summary>
    public HeldDeviceCall ArmReapHold()
    {
        var call = new HeldDeviceCall();
        Volatile.Write(ref _reapHold, call);
        return call;
    }

    /// <summary>Takes the armed reap hold, if any.</summary>
    public HeldDeviceCall? TakeReapHold() => Volatile.Read(ref _reapHold) is null ? null : Interlocked.Exchange(ref _reapHold, null);

    public bool TakeMapFailure() => Interlocked.Exchange(ref _failNextMap, 0) == 1;

    public bool TakeAllocationFailure() => Interlocked.Exchange(ref _failNextAllocation, 0) == 1;

    public bool TakePollCrash() => Interlocked.Exchange(ref _crashNextPoll, 0) == 1;

    public TimeSpan UnmapLatency => TimeSpan.FromTicks(Interlocked.Read(ref _unmapLatencyTicks));

    /// <summary>The domain is gone: a slow-unmap fault lasts one destroy.</summary>
    public void OnTeardown() => Interlocked.Exchange(ref _unmapLatencyTicks, 0);
}

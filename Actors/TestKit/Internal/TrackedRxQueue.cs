using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.TestKit.Internal;

/// <summary>
/// A queue's receive side that records which pages sit on its ring (for <see cref="RingLedger"/>), crashes the
/// driver at its next poll when the scenario asks, and holds a reap inside the device until the scenario releases it (a
/// driver stuck in a hung firmware call, whose reap then writes the frames waiting on the wire). The crash is thrown before
/// the device is asked for frames, so no page changes hands (the <see cref="IRxQueueDevice.Reap"/> contract) and no
/// frame is lost.
/// </summary>
internal sealed class TrackedRxQueue(IRxQueueDevice inner, FaultSwitches faults, RingLedger ring, string device, int queue) : IRxQueueDevice
{
    private readonly HashSet<NetmemRef> _posted = [];

    public RxFrameFormat FrameFormat => inner.FrameFormat;

    public RxInterrupt? Interrupt => inner.Interrupt;

    public int Posted => inner.Posted;

    public bool TryPost(NetmemRef page)
    {
        // Recorded before the post: once posted, a fast device may write and the driver reap it at once.
        _posted.Add(page);
        ring.Posted(page);
        if (inner.TryPost(page))
        {
            return true;
        }

        _posted.Remove(page);
        ring.Reaped(page);
        return false;
    }

    public int Reap(Span<RxFrame> frames)
    {
        if (faults.TakePollCrash())
        {
            throw new InjectedFaultException($"{device} rx{queue}: the scenario crashed the driver at this poll (ScenarioFaults.CrashDriverAtNextPoll).");
        }

        faults.TakeReapHold()?.HoldHere();

        int reaped = inner.Reap(frames);
        foreach (RxFrame frame in frames[..reaped])
        {
            _posted.Remove(frame.Netmem);
            ring.Reaped(frame.Netmem);
        }

        return reaped;
    }

    public long Close()
    {
        long returned = inner.Close();
        ring.Closed(_posted);
        _posted.Clear();
        return returned;
    }
}

using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// A queue's receive side with the <see cref="DmaOracle"/> in front, and one planted fault: when
/// <see cref="FaultPlan.CrashOnReap"/> is armed, the first reap that would find frames throws instead (a driver crash
/// mid-receive). It throws before reaching the device, so, as the contract says, no page changes hands.
/// </summary>
internal sealed class RecordingRxQueue(IRxQueueDevice inner, DmaOracle oracle, FaultPlan faults) : IRxQueueDevice
{
    public RxFrameFormat FrameFormat => inner.FrameFormat;

    public RxInterrupt? Interrupt => inner.Interrupt;

    public int Posted => inner.Posted;

    public bool TryPost(NetmemRef page)
    {
        using DmaOracle.CallScope call = oracle.Enter("post");
        return inner.TryPost(page);
    }

    public int Reap(Span<RxFrame> frames)
    {
        using DmaOracle.CallScope call = oracle.Enter("reap");
        if (faults.TakeReapCrash())
        {
            throw new IOException("planted fault: the receive queue failed mid-receive");
        }

        int reaped = inner.Reap(frames);
        faults.OnReaped(reaped);
        return reaped;
    }

    public long Close()
    {
        using DmaOracle.CallScope call = oracle.Enter("close receive queue");
        return inner.Close();
    }
}

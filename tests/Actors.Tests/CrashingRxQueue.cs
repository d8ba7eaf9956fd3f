using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.Actors.Tests;

/// <summary>A receive side whose close gives every page back and then lets its wire crash the driver (a crash while quiescing).</summary>
internal sealed class CrashingRxQueue(IRxQueueDevice inner, CrashingTrafficSource wire) : IRxQueueDevice
{
    public RxFrameFormat FrameFormat => inner.FrameFormat;

    public RxInterrupt? Interrupt => inner.Interrupt;

    public int Posted => inner.Posted;

    public bool TryPost(NetmemRef page) => inner.TryPost(page);

    public int Reap(Span<RxFrame> frames) => inner.Reap(frames);

    public long Close()
    {
        long returned = inner.Close();
        wire.CrashIfAskedOnClose();
        return returned;
    }
}

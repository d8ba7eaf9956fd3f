using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.Chaos;

/// <summary>
/// The driver-stuck seam of one RX queue's receive side, on either device: a reap the device's
/// <see cref="SlowDeviceSeam"/> picks stays inside the device for a while (a hung firmware call) before it asks the
/// device for frames, so it comes back with the frames written meanwhile, into pages that must still be mapped.
/// </summary>
internal sealed class StuckDriverRxQueue(IRxQueueDevice inner, SlowDeviceSeam seam) : IRxQueueDevice
{
    public RxFrameFormat FrameFormat => inner.FrameFormat;

    public RxInterrupt? Interrupt => inner.Interrupt;

    public int Posted => inner.Posted;

    public bool TryPost(NetmemRef page) => inner.TryPost(page);

    public int Reap(Span<RxFrame> frames)
    {
        seam.BeforeReap();
        return inner.Reap(frames);
    }

    public long Close() => inner.Close();
}

using Netmem.Driver;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Simulation;
using Netmem.Stack.Rx;

namespace Netmem.Chaos;

/// <summary>
/// The receive side of a real device's RX queue as a chaos run sees it: reaps pass the driver-crash seam (a throw
/// there is a crash mid-poll with the ring's pages in the device, which keeps them for Close), and every frame the
/// kernel wrote is checked against the bookkeeping: its page must be mapped for the device, or the shadow model
/// records a DMA write into an unmapped page.
/// </summary>
/// <remarks>
/// The crash seam is consulted once per frame, as on the simulated device (where the driver asks its wire for each
/// frame inside a poll), so one fault rate means the same on both. But a reap that has taken frames must not throw:
/// the pages would be lost between the device and the driver. So the frames of one reap are owed to the seam and
/// paid at the start of the next reap, before it takes anything: a throw there leaves every page where it was.
/// </remarks>
internal sealed class CheckedRxQueue : IRxQueueDevice
{
    private readonly IRxQueueDevice _inner;
    private readonly PagePool _pool;
    private readonly StrictDmaBookkeeping _bookkeeping;
    private readonly IommuModel _shadow;
    private readonly DriverFaultSeam _crashes;
    private int _owed;

    public CheckedRxQueue(IRxQueueDevice inner, PagePool pool, StrictDmaBookkeeping bookkeeping, IommuModel shadow, DriverFaultSeam crashes)
    {
        _inner = inner;
        _pool = pool;
        _bookkeeping = bookkeeping;
        _shadow = shadow;
        _crashes = crashes;
    }

    public RxFrameFormat FrameFormat => _inner.FrameFormat;

    public RxInterrupt? Interrupt => _inner.Interrupt;

    public int Posted => _inner.Posted;

    public bool TryPost(NetmemRef page) => _inner.TryPost(page);

    public int Reap(Span<RxFrame> frames)
    {
        while (_owed > 0)
        {
            _owed--;
            _crashes.MidPoll();
        }

        int reaped = _inner.Reap(frames);
        _owed = reaped;
        for (int i = 0; i < reaped; i++)
        {
            if (!_pool.TryGetDmaAddress(frames[i].Netmem, out ulong address) || !_bookkeeping.IsLive(address))
            {
                _shadow.DmaWrite(StrictDmaBookkeeping.NeverMapped, 0, [0]);
            }
        }

        return reaped;
    }

    public long Close() => _inner.Close();
}

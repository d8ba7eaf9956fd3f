using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.Actors.Devices.Guard;

/// <summary>
/// One queue's receive side behind the bind's <see cref="DeviceCallGuard"/>: once revoked, nothing is posted and
/// nothing reaped. Closing always goes through, because it is how the pages come back; the device contract makes a
/// close after teardown return them without touching the device.
/// </summary>
internal sealed class GuardedRxQueueDevice : IRxQueueDevice
{
    private readonly IRxQueueDevice _inner;
    private readonly DeviceCallGuard _guard;
    private readonly int _queue;

    public GuardedRxQueueDevice(IRxQueueDevice inner, DeviceCallGuard guard, int queue)
    {
        _inner = inner;
        _guard = guard;
        _queue = queue;
    }

    /// <summary>The inner device's declaration, read without the guard: it is not a device call.</summary>
    public RxFrameFormat FrameFormat => _inner.FrameFormat;

    public int Posted => _inner.Posted;

    public bool TryPost(NetmemRef page)
    {
        if (!_guard.TryEnter(DeviceCallKind.PostPage, _queue, 0, out int slot))
        {
            return false;
        }

        try
        {
            return _inner.TryPost(page);
        }
        finally
        {
            _guard.Exit(slot);
        }
    }

    public int Reap(Span<RxFrame> frames)
    {
        if (!_guard.TryEnter(DeviceCallKind.ReapFrames, _queue, 0, out int slot))
        {
            return 0;
        }

        try
        {
            return _inner.Reap(frames);
        }
        finally
        {
            _guard.Exit(slot);
        }
    }

    public long Close()
    {
        int slot = _guard.EnterAlways(DeviceCallKind.CloseReceive, _queue);
        try
        {
            return _inner.Close();
        }
        finally
        {
            _guard.Exit(slot);
        }
    }
}

using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.Actors.Devices.Guard;

/// <summary>
/// One queue's receive side behind the bind's <see cref="DeviceCallGuard"/>: once revoked, nothing is posted and
/// nothing reaped. Closing always goes through, because it is how the pages come back.
/// </summary>
/// <remarks>
/// <para><b>Intent: the device stops before its pages are unmapped.</b> Every page posted to the receive side can be
/// written by the device until the side is closed. The driver normally closes it when it quiesces; when it does not
/// (it hangs, possibly inside the device: a reap that does not return), the supervisor closes it itself with
/// <see cref="Close"/> before any pool is destroyed, so no posted page is unmapped under a live receive engine.</para>
/// <para><b>Why one lock across every call.</b> The device contract lets a receive side assume one call at a time,
/// and a close that overlapped a reap still inside the device would stop the engine under it and hand its pages back
/// while the reap may still write into them. So every call holds <see cref="_calls"/> while it is inside the inner
/// device, and the close takes it too: a close from the supervisor waits for the driver's call in flight, however
/// long that takes (a call that never returns holds the unbind, and the guard's record names it), and once the close
/// has run, the flag it set under the lock turns every later post into a refusal (the driver returns the page to its
/// pool) and every later reap into an empty one, so nothing reaches the closed device. The driver's own close, which
/// comes late when it hung, finds the side closed and returns nothing, so the inner close runs exactly once and no
/// page is returned twice. The lock is uncontended on the hot path (the driver is the only caller until an unbind
/// times out), which is one interlocked instruction per call.</para>
/// </remarks>
internal sealed class GuardedRxQueueDevice : IRxQueueDevice
{
    private readonly IRxQueueDevice _inner;
    private readonly DeviceCallGuard _guard;
    private readonly int _queue;
    private readonly Lock _calls = new();
    private bool _closed;

    public GuardedRxQueueDevice(IRxQueueDevice inner, DeviceCallGuard guard, int queue)
    {
        _inner = inner;
        _guard = guard;
        _queue = queue;
    }

    /// <summary>The inner device's declaration, read without the guard: it is not a device call.</summary>
    public RxFrameFormat FrameFormat => _inner.FrameFormat;

    /// <summary>The inner device's wake-up: raising it is the device's act, arming it the driver's; neither is a device call.</summary>
    public RxInterrupt? Interrupt => _inner.Interrupt;

    /// <summary>Pages posted and not reaped; none once closed (the close took them all back).</summary>
    public int Posted => Volatile.Read(ref _closed) ? 0 : _inner.Posted;

    /// <summary>Whether the receive side was closed, by the driver or by the supervisor.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    public bool TryPost(NetmemRef page)
    {
        lock (_calls)
        {
            if (_closed || !_guard.TryEnter(DeviceCallKind.PostPage, _queue, 0, out int slot))
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
    }

    public int Reap(Span<RxFrame> frames)
    {
        lock (_calls)
        {
            if (_closed || !_guard.TryEnter(DeviceCallKind.ReapFrames, _queue, 0, out int slot))
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
    }

    /// <summary>
    /// Closes the inner receive side once, after any call still inside it has returned; a later close returns 0.
    /// Safe from any thread.
    /// </summary>
    public long Close()
    {
        lock (_calls)
        {
            if (_closed)
            {
                return 0;
            }

            Volatile.Write(ref _closed, true);
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
}

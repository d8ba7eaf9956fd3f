namespace Netmem.Driver.Devices;

/// <summary>
/// The wake-up of one RX queue, as NAPI's interrupt: the device raises it when frames land, the driver arms it when a
/// poll has found the ring empty, and each arming wakes the driver at most once. A device that has one returns it
/// from <see cref="IRxQueueDevice.Interrupt"/>; the driver then polls only while frames keep coming and sleeps, with no
/// timer, until the device raises it.
/// </summary>
/// <remarks>
/// <para><b>Intent.</b> A timer on the receive path is a latency floor and burns CPU on an idle queue; NAPI has
/// neither: an interrupt schedules the poll, polls run in budgets while frames keep coming, and only a poll that
/// finds the ring empty re-enables the interrupt. The classic bug is the wake-up lost between "ring empty" and
/// "re-enabled": a frame that lands in that window raises nothing (not armed yet) and is not seen by the poll (it
/// looked before the frame landed), so the queue sleeps with a frame on its ring.</para>
/// <para><b>Why none is lost.</b> One word, <see cref="_state"/>: armed or not. The driver arms with a full fence
/// (interlocked exchange) and only then asks the device whether a frame is waiting. The device publishes a frame
/// (where its reap will find it) and only then raises, also with a full fence (interlocked compare-exchange of armed
/// to disarmed). Both fences order a store before a load, so of the driver's check and the device's raise at least one
/// sees the other's store (the store-buffer, or Dekker, pattern): either the check sees the frame, or the raise sees
/// the arming. If the check sees a frame, the driver takes the arming back by compare-exchange and polls at once; if
/// the raise got there first, the compare-exchange fails and the raise's wake-up is already on its way. Hence after
/// <see cref="TryArm"/> a frame that has landed or lands later is always followed by a poll.</para>
/// <para><b>Why no wake-up is doubled.</b> Only a compare-exchange from armed to disarmed delivers (the raise's, or the
/// driver's take-back, which polls instead), so each arming is consumed exactly once, and a raise with nothing armed
/// (the driver is polling anyway) does nothing. The device may raise as often as it likes.</para>
/// <para>The Coyote check in <c>tests/Pool.ModelChecks</c> explores this protocol and finds the wake-up lost by a
/// planted variant that checks before it arms.</para>
/// </remarks>
public sealed class RxInterrupt
{
    private const int Disarmed = 0;
    private const int Armed = 1;

    private readonly Func<bool> _framesWaiting;
    private readonly Action? _enableLine;
    private Action? _wake;
    private int _state;

    /// <param name="framesWaiting">
    /// The device's answer to "has a frame landed that a reap would take now?", asked by the driver right after it
    /// arms; it must see every frame published before the device's <see cref="Raise"/> for it.
    /// </param>
    /// <param name="enableLine">
    /// Called by the driver when it arms, before it asks <paramref name="framesWaiting"/>: a device that watches for
    /// frames only while armed (a thread that waits on the device for the driver) starts watching here. Null: the
    /// device raises whenever frames land, armed or not.
    /// </param>
    public RxInterrupt(Func<bool> framesWaiting, Action? enableLine = null)
    {
        ArgumentNullException.ThrowIfNull(framesWaiting);
        _framesWaiting = framesWaiting;
        _enableLine = enableLine;
    }

    /// <summary>Whether the interrupt is armed now (for diagnostics).</summary>
    public bool IsArmed => Volatile.Read(ref _state) == Armed;

    /// <summary>
    /// The device's side: frames have landed (call it after they are where a reap finds them). Wakes the driver if it
    /// armed the interrupt; does nothing otherwise. Any thread, any number of times.
    /// </summary>
    public void Raise()
    {
        if (Interlocked.CompareExchange(ref _state, Disarmed, Armed) == Armed)
        {
            Volatile.Read(ref _wake)?.Invoke();
        }
    }

    /// <summary>Connects the driver's wake-up (it tells the driver to poll the queue); called once, before the first arming.</summary>
    internal void Connect(Action wake) => Volatile.Write(ref _wake, wake);

    /// <summary>
    /// The driver's side, after a poll found the ring empty: arms the interrupt and returns true, so the driver may
    /// sleep until woken; or, when a frame is already waiting, returns false without leaving it armed, and the driver
    /// polls at once.
    /// </summary>
    internal bool TryArm()
    {
        Interlocked.Exchange(ref _state, Armed);
        _enableLine?.Invoke();
        if (!_framesWaiting())
        {
            return true;
        }

        // A frame is waiting: take the arming back, unless a raise took it first (its wake-up is then on its way).
        return Interlocked.CompareExchange(ref _state, Disarmed, Armed) != Armed;
    }

    /// <summary>Disarms without waking (the queue closes): a later raise wakes nobody.</summary>
    internal void Disarm() => Interlocked.Exchange(ref _state, Disarmed);
}

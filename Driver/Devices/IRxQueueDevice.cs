using Netmem.Stack.Actors;
using Netmem.Stack.Rx;

namespace Netmem.Driver.Devices;

/// <summary>
/// The receive side of one RX queue, as the driver sees a NIC's descriptor ring: the driver posts empty pages of
/// the queue's pool, the device writes frames into them, and the driver reaps the written ones in budgets.
/// </summary>
/// <remarks>
/// <para>Ownership: a page passed to <see cref="TryPost"/> belongs to the device until <see cref="Reap"/> hands it
/// back inside an <see cref="RxFrame"/> (which the driver passes up the stack) or <see cref="Close"/> returns it to
/// its pool. The device never returns a posted page to the pool on its own otherwise.</para>
/// <para>Threading: one call at a time, as a NIC's rings are touched only by its poll loop: every member is called
/// from the driver's context, except <see cref="Close"/>, which the runtime makes itself when the driver did not
/// quiesce in time, after the driver's call in flight (if any) has returned.</para>
/// </remarks>
public interface IRxQueueDevice
{
    /// <summary>
    /// What the frames this receive side writes hold: whole Ethernet frames (what a NIC writes, and the default) or the
    /// payloads of one UDP flow's datagrams (what a UDP socket hands over, with no header for the stack to parse). The
    /// driver reads it once when it opens the queue and every batch carries it to the stack, so it must not change;
    /// a decorator passes its inner device's on. It is a declaration, not a device call.
    /// </summary>
    RxFrameFormat FrameFormat => RxFrameFormat.Ethernet;

    /// <summary>
    /// The queue's wake-up, NAPI's interrupt, which the device raises when frames land; null (the default) for a
    /// device without one, whose queue the driver then polls on its idle timer. A decorator passes its inner device's
    /// on. Read once, when the driver opens the queue; it is not a device call.
    /// </summary>
    RxInterrupt? Interrupt => null;

    /// <summary>How many pages are posted and not yet reaped.</summary>
    int Posted { get; }

    /// <summary>Posts an empty page for the device to receive into. False when the ring is full (the page stays the caller's).</summary>
    bool TryPost(Pool.NetmemRef page);

    /// <summary>
    /// Takes up to <c>frames.Length</c> frames the device has written, each naming its page, offset and length, and
    /// returns how many. The pages become the caller's when it returns; if it throws, none changes hands (the device
    /// keeps them for <see cref="Close"/>). Never blocks.
    /// </summary>
    int Reap(Span<RxFrame> frames);

    /// <summary>
    /// Stops the queue's receive engine (the device writes no frame after it returns), takes back every page it
    /// still holds (posted or written and not reaped) and returns each to its pool. Returns how many pages it
    /// returned. The runtime calls it once per <see cref="IDeviceBinding.OpenRxQueue"/>, before any page of the
    /// queue's pool is unmapped by its destroy and before <see cref="IDeviceBinding.TearDown"/>: the device must stop
    /// before its pages are unmapped. An implementation used without the runtime should still make a second call
    /// return 0 and touch nothing.
    /// </summary>
    long Close();
}

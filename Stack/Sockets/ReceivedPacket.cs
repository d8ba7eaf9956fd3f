using Netmem.Pool;
using Netmem.Stack.Parsing;

namespace Netmem.Stack.Sockets;

/// <summary>
/// One received frame handed to application code: it owns the pooled buffer the frame lives in (a whole page or a
/// fragment) and carries what the parser read. Disposing it returns the buffer to its pool, exactly once: a second
/// dispose does nothing.
/// </summary>
/// <remarks>
/// It is a class, one per queued packet, because the dispose-once guarantee needs one shared flag that every copy
/// of the reference sees; a struct copy would carry its own flag and could return the page twice. Instances are not
/// recycled, for the same reason: a stale reference to a reused instance could dispose the next owner's page.
/// </remarks>
public sealed class ReceivedPacket : IDisposable
{
    private readonly NetmemRef _page;
    private readonly NetmemFragment _fragment;
    private readonly bool _inFragment;
    // Dispose-once: _disposed goes 0 -> 1 by Interlocked.Exchange and never back, so exactly one Dispose call sees 0
    // and returns the buffer; every other call, on any thread, sees 1 and does nothing. The pool would refuse a
    // second return of the handle anyway (its generation check), but by throwing; this turns it into a no-op.
    private int _disposed;

    // Written only by the socket queue's drop callback, which the channel runs synchronously inside the writer's
    // TryWrite for this very item; read by that same writer right after TryWrite returns. One thread writes and reads
    // it in program order, so no other thread's view of it matters.
    private bool _droppedByFullQueue;

    // Hand-over-once: set 0 -> 1 by the first TryDeliver, so one packet (one page) is never queued on two sockets.
    private int _handedOver;

    /// <summary>A frame at <paramref name="frameOffset"/> in a whole page; the packet takes ownership of the page.</summary>
    public ReceivedPacket(NetmemRef page, int frameOffset, int frameLength, in ParsedPacket packet)
    {
        if (page.IsDefault)
        {
            throw new ArgumentException("The default NetmemRef names no page.", nameof(page));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(frameOffset);
        ValidateFrame(frameLength, packet);
        _page = page;
        FrameOffset = frameOffset;
        FrameLength = frameLength;
        Packet = packet;
    }

    /// <summary>A frame at the start of a fragment; the packet takes ownership of the fragment.</summary>
    public ReceivedPacket(NetmemFragment fragment, int frameLength, in ParsedPacket packet)
    {
        if (fragment.Page.IsDefault)
        {
            throw new ArgumentException("The fragment names no page.", nameof(fragment));
        }

        ValidateFrame(frameLength, packet);
        if (frameLength > fragment.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(frameLength), frameLength, $"The fragment holds only {fragment.Length} bytes.");
        }

        _fragment = fragment;
        _inFragment = true;
        FrameLength = frameLength;
        Packet = packet;
    }

    public ParsedPacket Packet { get; }

    /// <summary>Where the frame starts in its page, or in its fragment.</summary>
    public int FrameOffset { get; }

    public int FrameLength { get; }

    /// <summary>The page the frame lives in (for a fragment, the page it was cut from).</summary>
    public NetmemRef Page => _inFragment ? _fragment.Page : _page;

    /// <summary>True when the frame lives in a fragment rather than a whole page.</summary>
    public bool IsFragment => _inFragment;

    public FlowKey Flow => Packet.Flow;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The frame's bytes, until the packet is disposed.</summary>
    /// <exception cref="ObjectDisposedException">The packet was disposed and its buffer returned.</exception>
    /// <exception cref="Pool.Misuse.UnreadableNetmemException">The buffer is device memory, which has no host bytes.</exception>
    public ReadOnlySpan<byte> Frame
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            Span<byte> buffer = _inFragment ? _fragment.GetSpan() : _page.GetSpan();
            return buffer.Slice(FrameOffset, FrameLength);
        }
    }

    /// <summary>The transport payload's bytes, until the packet is disposed.</summary>
    public ReadOnlySpan<byte> Payload => Packet.PayloadOf(Frame);

    /// <summary>Set by the socket queue when it dropped this packet for want of room, before disposing it.</summary>
    internal bool DroppedByFullQueue => _droppedByFullQueue;

    /// <summary>
    /// Returns the buffer to its pool, from any thread; later calls do nothing. If the pool refuses the return (the
    /// buffer was returned some other way, breaking the ownership rule) its exception propagates, once.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_inFragment)
        {
            _fragment.ReturnToPool();
        }
        else
        {
            _page.ReturnToPool();
        }
    }

    public override string ToString() => $"{Packet} in {Page}{(IsDisposed ? " (disposed)" : string.Empty)}";

    internal void MarkDroppedByFullQueue() => _droppedByFullQueue = true;

    /// <summary>Claims the packet's single hand-over to a socket; false if it was already handed over.</summary>
    internal bool TryClaimHandOver() => Interlocked.Exchange(ref _handedOver, 1) == 0;

    private static void ValidateFrame(int frameLength, in ParsedPacket packet)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frameLength);
        if (packet.PayloadOffset < 0 || packet.PayloadLength < 0 || packet.PayloadOffset + packet.PayloadLength > frameLength)
        {
            throw new ArgumentException($"The parsed payload {packet.PayloadOffset}+{packet.PayloadLength} lies outside the {frameLength}-byte frame.", nameof(packet));
        }
    }
}

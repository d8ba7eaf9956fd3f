using Netmem.Pool;
using Netmem.Stack.Parsing;

namespace Netmem.Stack.Sockets;

/// <summary>
/// One received frame handed to application code: it owns the pooled buffer the frame lives in (a whole page or a
/// fragment) and carries what the parser read. Disposing it returns the buffer to its pool, exactly once: a second
/// dispose, through this copy or any other, does nothing.
/// </summary>
/// <remarks>
/// <para>A value, so queuing one allocates nothing: the frame's data (buffer handle, bounds, parse result) is
/// immutable and travels in every copy, and the one thing all copies must agree on (handed over yet? disposed yet?)
/// lives in a shared <see cref="PacketLease"/> cell that is recycled between packets. Each packet is made under its
/// own lease number, so a copy kept after its packet was disposed stays disposed even when the cell serves a later
/// packet, and can never return that packet's buffer (see <see cref="PacketLease"/> for the invariants). The
/// guarantee does not lean on the pool's own double-return check, so it holds for pools that do not track their
/// pages too, and a buffer returned behind the packet's back is still reported by the pool when the packet is
/// disposed, once.</para>
/// <para><c>default(ReceivedPacket)</c> names no packet: it reads as disposed and disposing it does nothing.</para>
/// </remarks>
public readonly struct ReceivedPacket : IDisposable
{
    private readonly PacketLease? _lease;
    private readonly long _leaseNumber;
    private readonly NetmemRef _page;

    // A fragment's slice of the page; length 0 means the frame lives in the whole page (a fragment is never empty).
    private readonly int _fragmentOffset;
    private readonly int _fragmentLength;

    /// <summary>A frame at <paramref name="frameOffset"/> in a whole page; the packet takes ownership of the page.</summary>
    public ReceivedPacket(NetmemRef page, int frameOffset, int frameLength, in ParsedPacket packet)
        : this(page, frameOffset, frameLength, packet, handedOver: false)
    {
    }

    /// <summary>A frame at the start of a fragment; the packet takes ownership of the fragment.</summary>
    public ReceivedPacket(NetmemFragment fragment, int frameLength, in ParsedPacket packet)
        : this(fragment, frameLength, packet, handedOver: false)
    {
    }

    private ReceivedPacket(NetmemRef page, int frameOffset, int frameLength, in ParsedPacket packet, bool handedOver)
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
        _lease = PacketLeasePool.Rent();
        _leaseNumber = handedOver ? _lease.BeginHandedOver() : _lease.CurrentLease;
    }

    private ReceivedPacket(NetmemFragment fragment, int frameLength, in ParsedPacket packet, bool handedOver)
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

        if (fragment.Length <= 0)
        {
            throw new ArgumentException("A fragment is at least one byte.", nameof(fragment));
        }

        _page = fragment.Page;
        _fragmentOffset = fragment.Offset;
        _fragmentLength = fragment.Length;
        FrameLength = frameLength;
        Packet = packet;
        _lease = PacketLeasePool.Rent();
        _leaseNumber = handedOver ? _lease.BeginHandedOver() : _lease.CurrentLease;
    }

    /// <summary>
    /// A packet for a socket the caller queues it on itself, at once (<see cref="SocketConsumer.TryDeliverHandedOver"/>):
    /// its hand-over is claimed as it is made, without the compare-and-swap, since no copy exists yet (see
    /// <see cref="PacketLease.BeginHandedOver"/>). <see cref="SocketConsumer.TryDeliver"/> refuses it, as it refuses
    /// any packet already handed over.
    /// </summary>
    internal static ReceivedPacket HandedOver(NetmemRef page, int frameOffset, int frameLength, in ParsedPacket packet) =>
        new(page, frameOffset, frameLength, packet, handedOver: true);

    /// <summary>The fragment form of <see cref="HandedOver(NetmemRef, int, int, in ParsedPacket)"/>.</summary>
    internal static ReceivedPacket HandedOver(NetmemFragment fragment, int frameLength, in ParsedPacket packet) =>
        new(fragment, frameLength, packet, handedOver: true);

    /// <summary>What the parser read from the frame: headers, flow and where the payload lies.</summary>
    public ParsedPacket Packet { get; }

    /// <summary>Where the frame starts in its page, or in its fragment.</summary>
    public int FrameOffset { get; }

    /// <summary>The frame's length in bytes (no FCS).</summary>
    public int FrameLength { get; }

    /// <summary>The page the frame lives in (for a fragment, the page it was cut from).</summary>
    public NetmemRef Page => _page;

    /// <summary>True when the frame lives in a fragment rather than a whole page.</summary>
    public bool IsFragment => _fragmentLength != 0;

    /// <summary>The flow the frame belongs to, as the parser read it: the sender is the remote side.</summary>
    public FlowKey Flow => Packet.Flow;

    /// <summary>True once the packet was disposed through any copy (or for <c>default</c>): its buffer is no longer the holder's to read.</summary>
    public bool IsDisposed => _lease is null || _lease.IsEnded(_leaseNumber);

    /// <summary>The frame's bytes, until the packet is disposed.</summary>
    /// <exception cref="ObjectDisposedException">The packet was disposed and its buffer returned.</exception>
    /// <exception cref="Pool.Misuse.UnreadableNetmemException">The buffer is device memory, which has no host bytes.</exception>
    public ReadOnlySpan<byte> Frame
    {
        get
        {
            if (IsDisposed)
            {
                throw new ObjectDisposedException(nameof(ReceivedPacket), $"{this} was disposed and its buffer returned.");
            }

            Span<byte> buffer = IsFragment ? Fragment.GetSpan() : _page.GetSpan();
            return buffer.Slice(FrameOffset, FrameLength);
        }
    }

    /// <summary>The transport payload's bytes, until the packet is disposed.</summary>
    public ReadOnlySpan<byte> Payload => Packet.PayloadOf(Frame);

    private NetmemFragment Fragment => new(_page, _fragmentOffset, _fragmentLength);

    /// <summary>
    /// Returns the buffer to its pool, from any thread; later calls, through any copy, do nothing. If the pool refuses
    /// the return (the buffer was returned some other way, breaking the ownership rule) its exception propagates, once.
    /// </summary>
    public void Dispose()
    {
        PacketLease? lease = _lease;
        if (lease is null || !lease.TryEnd(_leaseNumber))
        {
            return;
        }

        try
        {
            if (IsFragment)
            {
                Fragment.ReturnToPool();
            }
            else
            {
                _page.ReturnToPool();
            }
        }
        finally
        {
            // The lease has ended, so no copy of this packet can act through the cell any more: it may serve the next.
            PacketLeasePool.Return(lease);
        }
    }

    /// <summary>The packet for logs: the parse result, the page and whether it was disposed.</summary>
    public override string ToString() => $"{Packet} in {Page}{(IsDisposed ? " (disposed)" : string.Empty)}";

    /// <summary>Claims the packet's single hand-over to a socket.</summary>
    internal PacketLease.HandOver TryClaimHandOver() =>
        _lease is null ? PacketLease.HandOver.Ended : _lease.TryHandOver(_leaseNumber);

    private static void ValidateFrame(int frameLength, in ParsedPacket packet)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frameLength);
        if (packet.PayloadOffset < 0 || packet.PayloadLength < 0 || packet.PayloadOffset + packet.PayloadLength > frameLength)
        {
            throw new ArgumentException($"The parsed payload {packet.PayloadOffset}+{packet.PayloadLength} lies outside the {frameLength}-byte frame.", nameof(packet));
        }
    }
}

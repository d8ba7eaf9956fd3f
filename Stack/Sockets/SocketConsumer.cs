using System.Threading.Channels;

namespace Netmem.Stack.Sockets;

/// <summary>
/// A socket-like endpoint: a bounded queue of <see cref="ReceivedPacket"/>s that the stack writes and application
/// code reads with <c>await foreach (var p in consumer.Reader.ReadAllAsync(ct)) { using (p) { ... } }</c>.
/// </summary>
/// <remarks>
/// <para>Every packet handed to <see cref="TryDeliver"/> ends in exactly one place: read by the application (which
/// disposes it), dropped because the queue was full, refused because the consumer was closed, or drained at close.
/// The last three return its buffer here, so pages never leak through a socket; each has a counter.</para>
/// <para>A full queue drops the arriving packet (the kernel's socket receive buffer does the same), and the writer
/// learns of it from <see cref="TryDeliver"/>'s result.</para>
/// <para>Any number of stack actors may write and any number of application tasks may read.</para>
/// <para><b>Why not a bounded channel.</b> A bounded <see cref="Channel{T}"/> takes one lock for every write and
/// every read, so the stack actor writing a batch and the consumer reading it fought over that lock once per packet
/// on each side (a contended lock was the largest single cost of the end-to-end benchmark's stack and consumer
/// after the IOMMU model's). Here the queue is an unbounded channel, whose reads take no lock (its items sit in a
/// <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>) and whose writes lock only against other
/// writers and waiting readers, and the bound is a count of places taken: a writer takes a place by
/// <see cref="Interlocked.Increment(ref int)"/> before writing, giving it back if that made more than
/// <see cref="Capacity"/> (a drop), and the reader (<see cref="Reader"/>, which wraps the channel's) gives one back
/// after each item it takes. Invariant: places taken ≥ packets in the channel at every instant (a place is taken
/// before its packet goes in and given back after it comes out), so the channel never holds more than
/// <see cref="Capacity"/> packets, and a count of 0 means it is empty, which is what <see cref="QueuedCount"/>'s
/// users rely on to decide between reading on and waiting. The channel wakes waiting readers as before.</para>
/// </remarks>
public sealed class SocketConsumer : IDisposable
{
    private readonly Channel<ReceivedPacket> _channel;
    private readonly CountingReader _reader;
    private long _delivered;
    private long _droppedQueueFull;
    private long _droppedClosed;
    private long _drainedAtClose;

    // Places taken in the queue (see the remarks): packets queued, being queued, or just read.
    private int _placesTaken;

    // Overload hint: set by a drop, cleared by the next packet that is queued. Only while it is set does
    // TryDropBeforeDelivery read the count, so a consumer that is keeping up costs nothing extra, and one that is
    // flooded drops without a ReceivedPacket being built for each dropped frame. A stale value costs at most one
    // read (still set) or one allocation (already cleared); either way the packet meets the same decision.
    private int _overloaded;

    /// <summary>An open consumer with an empty queue.</summary>
    /// <param name="name">Names the consumer in logs, metrics and <see cref="FlowAlreadyBoundException"/>.</param>
    /// <param name="capacity">The most packets queued for the application; a packet arriving when it is full is dropped.</param>
    public SocketConsumer(string name, int capacity)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Name = name;
        Capacity = capacity;
        var options = new UnboundedChannelOptions
        {
            SingleReader = false,
            SingleWriter = false,

            // Keep application continuations off the stack's thread: a reader awaiting the next packet resumes on
            // the thread pool, never inside TryDeliver.
            AllowSynchronousContinuations = false,
        };
        _channel = Channel.CreateUnbounded<ReceivedPacket>(options);
        _reader = new CountingReader(this, _channel.Reader);
    }

    /// <summary>Names the consumer in logs, metrics and binding errors.</summary>
    public string Name { get; }

    /// <summary>The most packets queued at once; past it, arriving packets are dropped and counted in <see cref="DroppedQueueFull"/>.</summary>
    public int Capacity { get; }

    /// <summary>Where the application reads its packets; it must dispose each one it reads. Any number of readers may share it.</summary>
    public ChannelReader<ReceivedPacket> Reader => _reader;

    /// <summary>Completes when the consumer is closed and its queue is empty.</summary>
    public Task Completion => _channel.Reader.Completion;

    /// <summary>Packets waiting to be read (a packet being queued or just read may be counted): 0 means none is queued.</summary>
    public int QueuedCount => Volatile.Read(ref _placesTaken);

    /// <summary>Packets queued for the application (counted just after they are queued).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Packets dropped, and their buffers returned, because the queue was full.</summary>
    public long DroppedQueueFull => Interlocked.Read(ref _droppedQueueFull);

    /// <summary>Packets refused, and their buffers returned, because the consumer was already closed.</summary>
    public long DroppedClosed => Interlocked.Read(ref _droppedClosed);

    /// <summary>Packets still queued at close, disposed by the close.</summary>
    public long DrainedAtClose => Interlocked.Read(ref _drainedAtClose);

    /// <summary>
    /// Queues <paramref name="packet"/> for the application, taking ownership of it either way: true if it was
    /// queued; false if the queue was full or the consumer closed, in which case the packet is already disposed.
    /// </summary>
    /// <exception cref="ArgumentException">The packet is <c>default</c>: it names no packet; nothing is queued or counted.</exception>
    /// <exception cref="ObjectDisposedException">The packet was already disposed (its buffer is gone); nothing is queued or counted.</exception>
    /// <exception cref="InvalidOperationException">The packet (this copy or another) was already handed to a socket (this one or another); nothing is queued or counted.</exception>
    public bool TryDeliver(in ReceivedPacket packet)
    {
        switch (packet.TryClaimHandOver())
        {
            case PacketLease.HandOver.Claimed:
                break;
            case PacketLease.HandOver.AlreadyHandedOver:
                throw new InvalidOperationException($"{packet} was already handed to a socket; one packet cannot be queued twice.");
            default:
                if (packet.Page.IsDefault)
                {
                    throw new ArgumentException("The default ReceivedPacket names no packet.", nameof(packet));
                }

                throw new ObjectDisposedException(nameof(ReceivedPacket), $"{packet} was already disposed; its buffer is gone.");
        }

        if (Interlocked.Increment(ref _placesTaken) > Capacity)
        {
            Interlocked.Decrement(ref _placesTaken);
            DropBecauseQueueFull(packet);
            return false;
        }

        if (!_channel.Writer.TryWrite(packet))
        {
            Interlocked.Decrement(ref _placesTaken);
            Interlocked.Increment(ref _droppedClosed);
            packet.Dispose();
            return false;
        }

        Interlocked.Increment(ref _delivered);
        if (Volatile.Read(ref _overloaded) != 0)
        {
            Volatile.Write(ref _overloaded, 0);
        }

        return true;
    }

    /// <summary>
    /// True, counting a queue-full drop, when this consumer has been dropping and its queue is still full: the caller
    /// then returns the buffer itself instead of building a <see cref="ReceivedPacket"/> only to have it dropped.
    /// </summary>
    internal bool TryDropBeforeDelivery()
    {
        if (Volatile.Read(ref _overloaded) == 0 || Volatile.Read(ref _placesTaken) < Capacity)
        {
            return false;
        }

        Interlocked.Increment(ref _droppedQueueFull);
        return true;
    }

    /// <summary>
    /// Closes the consumer: no more packets are accepted, and every packet still queued is disposed (its buffer
    /// returned) and counted in <see cref="DrainedAtClose"/>. Readers finish after the packets they already took;
    /// with an <paramref name="error"/>, their <c>ReadAllAsync</c> ends by throwing it. Safe to call repeatedly.
    /// </summary>
    public void Complete(Exception? error = null)
    {
        _channel.Writer.TryComplete(error);

        // After TryComplete no write can succeed, so this loop sees every packet that will ever be queued except
        // those a concurrent reader takes first, and those are the reader's to dispose.
        while (_reader.TryRead(out ReceivedPacket packet))
        {
            Interlocked.Increment(ref _drainedAtClose);
            packet.Dispose();
        }
    }

    /// <summary>Closes the consumer, as <see cref="Complete"/> without an error.</summary>
    public void Dispose() => Complete();

    /// <summary>The consumer for logs: name, queue fill and every counter.</summary>
    public override string ToString() =>
        $"{Name}: queued {QueuedCount}/{Capacity}, delivered {Delivered}, dropped full {DroppedQueueFull}, dropped closed {DroppedClosed}, drained {DrainedAtClose}";

    private void DropBecauseQueueFull(in ReceivedPacket packet)
    {
        Volatile.Write(ref _overloaded, 1);
        Interlocked.Increment(ref _droppedQueueFull);
        packet.Dispose();
    }

    /// <summary>The channel's reader, giving back a place in the queue for each packet it takes (see the remarks).</summary>
    private sealed class CountingReader(SocketConsumer socket, ChannelReader<ReceivedPacket> channel) : ChannelReader<ReceivedPacket>
    {
        public override Task Completion => channel.Completion;

        public override bool CanCount => channel.CanCount;

        public override int Count => channel.Count;

        public override bool CanPeek => channel.CanPeek;

        public override bool TryRead(out ReceivedPacket item)
        {
            if (!channel.TryRead(out item))
            {
                return false;
            }

            Interlocked.Decrement(ref socket._placesTaken);
            return true;
        }

        public override bool TryPeek(out ReceivedPacket item) => channel.TryPeek(out item);

        // Waits on the channel itself: without a token it answers from a waiter it reuses (no allocation).
        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => channel.WaitToReadAsync(cancellationToken);
    }
}

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
/// <para>A full queue drops the arriving packet and keeps the ones already queued, as a bounded channel in
/// <see cref="BoundedChannelFullMode.DropWrite"/> mode does. The queue is a <see cref="SocketQueue{T}"/>, which
/// tells the writer what became of each write, so no drop callback is needed.</para>
/// <para>Any number of stack actors may write and any number of application tasks may read.</para>
/// </remarks>
public sealed class SocketConsumer : IDisposable
{
    private readonly SocketQueue<ReceivedPacket> _queue;
    private long _delivered;
    private long _droppedQueueFull;
    private long _droppedClosed;
    private long _drainedAtClose;

    // Overload hint: set by a drop, cleared by the next packet that is queued. Only while it is set does
    // TryDropBeforeDelivery read the queue's count, so a consumer that is keeping up costs nothing extra, and one
    // that is flooded drops without a ReceivedPacket being built for each dropped frame. A stale value costs at most
    // one count read (still set) or one packet built (already cleared); either way the packet meets the same
    // capacity decision, at most a reader's dequeue earlier.
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

        // A reader awaiting the next packet resumes on the thread pool, never inside TryDeliver (SocketQueueWaiter).
        _queue = new SocketQueue<ReceivedPacket>(capacity);
    }

    /// <summary>Names the consumer in logs, metrics and binding errors.</summary>
    public string Name { get; }

    /// <summary>The most packets queued at once; past it, arriving packets are dropped and counted in <see cref="DroppedQueueFull"/>.</summary>
    public int Capacity { get; }

    /// <summary>Where the application reads its packets; it must dispose each one it reads. Any number of readers may share it.</summary>
    public ChannelReader<ReceivedPacket> Reader => _queue;

    /// <summary>Completes when the consumer is closed and its queue is empty.</summary>
    public Task Completion => _queue.Completion;

    /// <summary>Packets waiting to be read.</summary>
    public int QueuedCount => _queue.Count;

    /// <summary>
    /// Packets queued for the application: counted just after each is queued by <see cref="TryDeliver"/>, and when
    /// its batch ends for a packet the stack queued (so a reader may see a packet before it is counted here).
    /// </summary>
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

        if (!TryDeliverHandedOver(packet))
        {
            return false;
        }

        Interlocked.Increment(ref _delivered);
        return true;
    }

    /// <summary>
    /// <see cref="TryDeliver"/> for a packet whose hand-over the caller has claimed (made by
    /// <see cref="ReceivedPacket.HandedOver(Pool.NetmemRef, int, int, in Parsing.ParsedPacket)"/>), without counting it
    /// in <see cref="Delivered"/>: the caller counts it, with <see cref="AddDelivered"/> (the stack counts a batch's
    /// packets once, see <see cref="DeliveryTally"/>).
    /// </summary>
    internal bool TryDeliverHandedOver(in ReceivedPacket packet)
    {
        switch (_queue.TryWrite(packet))
        {
            case SocketQueueWrite.Queued:
                if (Volatile.Read(ref _overloaded) != 0)
                {
                    Volatile.Write(ref _overloaded, 0);
                }

                return true;
            case SocketQueueWrite.Full:
                Volatile.Write(ref _overloaded, 1);
                Interlocked.Increment(ref _droppedQueueFull);
                packet.Dispose();
                return false;
            default:
                Interlocked.Increment(ref _droppedClosed);
                packet.Dispose();
                return false;
        }
    }

    /// <summary>Counts <paramref name="count"/> packets queued by <see cref="TryDeliverHandedOver"/>.</summary>
    internal void AddDelivered(int count) => Interlocked.Add(ref _delivered, count);

    /// <summary>
    /// True, counting a queue-full drop, when this consumer has been dropping and its queue is still full: the caller
    /// then returns the buffer itself instead of building a <see cref="ReceivedPacket"/> only to have it dropped.
    /// </summary>
    internal bool TryDropBeforeDelivery()
    {
        if (Volatile.Read(ref _overloaded) == 0 || _queue.Count < Capacity)
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
        _queue.TryComplete(error);

        // After the close no write can succeed, so the drain sees every packet that will ever be queued except
        // those a concurrent reader takes first, and those are the reader's to dispose.
        _queue.DrainAfterClose(packet =>
        {
            Interlocked.Increment(ref _drainedAtClose);
            packet.Dispose();
        });
    }

    /// <summary>Closes the consumer, as <see cref="Complete"/> without an error.</summary>
    public void Dispose() => Complete();

    /// <summary>The consumer for logs: name, queue fill and every counter.</summary>
    public override string ToString() =>
        $"{Name}: queued {QueuedCount}/{Capacity}, delivered {Delivered}, dropped full {DroppedQueueFull}, dropped closed {DroppedClosed}, drained {DrainedAtClose}";
}

using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Netmem.Stack.Sockets;

/// <summary>
/// A socket's bounded queue: any number of writers (the stack's RX queues) and readers (application tasks, the
/// consumer actor). A write never waits: it is queued, refused because the queue holds
/// <see cref="Capacity"/> items, or refused because the queue was closed. Readers see it as a
/// <see cref="ChannelReader{T}"/>.
/// </summary>
/// <remarks>
/// <para>Intent. This replaces a <c>Channel.CreateBounded</c> channel in <c>DropWrite</c> mode, whose one lock every
/// write and every read takes. The stack writes and the consumer reads on two cores, one packet at a time, so that
/// lock word crossed cores twice per packet, and the profile of the end-to-end case put over a third of all the
/// process's CPU in the lock's enter and exit (BENCHMARKS.md §10). Here a write and a read each touch only their own
/// side's counter and the queue's slot: the items live in a <see cref="ConcurrentQueue{T}"/> (lock-free, one
/// compare-and-swap per enqueue and per dequeue, growing only when it holds more than ever before), and the
/// capacity is kept by two counters, one per side.</para>
/// <para>Invariants and why they hold:</para>
/// <list type="bullet">
/// <item><b>Capacity.</b> <c>Writes</c> counts the writes that got a place, <c>Reads</c> the items taken out; a
/// writer takes a place by compare-and-swap of <c>Writes</c> from w to w + 1 only when w − Reads &lt; capacity, for
/// a Reads it read after w, and Reads only grows; so at most <see cref="Capacity"/> places are taken and not yet
/// read, whatever the writers interleave. A writer keeps the last Reads any writer saw and reads the readers' counter
/// only when that makes the queue look full, so a write touches only the writers' line. A reader counts its item
/// just after taking it, so for an instant after a read the queue still looks full: with one reader this orders the
/// read at its count; with several concurrent readers a write may be refused while another read is being
/// counted.</item>
/// <item><b>Nothing is written after the close.</b> The close sets <see cref="ClosedMark"/> in <c>Writes</c> with one
/// atomic or: a writer's compare-and-swap from a value without the mark then fails, and no writer takes a place
/// after it. Writers that took their place before it still enqueue; <see cref="DrainAfterClose"/> waits for each
/// of them, so a drain after the close sees every item ever queued that no reader took.</item>
/// <item><b>No reader sleeps past a write.</b> A reader about to sleep sets <c>ReadersWaiting</c> with an atomic
/// exchange, then reads <c>Writes</c>; a writer changes <c>Writes</c> with its compare-and-swap, enqueues, then
/// reads <c>ReadersWaiting</c>. Both atomics are full fences, so either the reader sees the write's place (and
/// does not sleep) or the writer sees the flag (and wakes every waiter, after its item is in the queue). A write
/// with no reader waiting pays one plain load of a line that only changes when a reader goes to sleep.</item>
/// <item><b><see cref="Completion"/> is not missed.</b> It completes when the queue is closed and every place taken
/// was read. The close sets <c>Closed</c> by an atomic exchange and then reads <c>Reads</c>; a reader counts its item
/// by an atomic increment and then reads <c>Closed</c>. Both are full fences, so either the last reader sees the
/// queue closed or the close sees the last count, and whichever does completes it.</item>
/// <item><b>Each wait completes once</b>: see <see cref="SocketQueueWaiter"/>.</item>
/// </list>
/// <para>A place is taken a few instructions before its item is enqueued (the writer's two steps). A waiting reader
/// (<see cref="WaitToReadAsync"/>) and <see cref="DrainAfterClose"/> spin until the item is there; <see cref="TryRead"/>
/// does not wait for another thread and reports the queue empty meanwhile. So, strictly in real time, a write refused
/// as full can be followed by a read that finds nothing, for as long as a landing write takes; the counts stay
/// exact, and the item is read next.</para>
/// </remarks>
/// <typeparam name="T">The items: <see cref="ReceivedPacket"/> in a <see cref="SocketConsumer"/>.</typeparam>
internal sealed class SocketQueue<T> : ChannelReader<T>
{
    /// <summary>Set in <c>Writes</c> by the close; counts stay far below it.</summary>
    private const long ClosedMark = 1L << 62;

    private readonly ConcurrentQueue<T> _items = new();
    private readonly Lock _waitLock = new();
    private readonly List<SocketQueueWaiter> _waiters = [];
    private readonly SocketQueueWaiter _reusableWaiter = new(reusable: true);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<object?, CancellationToken> _cancelWait;
    private SocketQueueCounters _counters;
    private Exception? _closeError;

    /// <param name="capacity">The most items queued at once.</param>
    public SocketQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _cancelWait = CancelWait;
    }

    /// <summary>The most items queued at once.</summary>
    public int Capacity { get; }

    /// <summary>True once <see cref="TryComplete"/> has run: no write succeeds any more.</summary>
    public bool IsClosed => Volatile.Read(ref _counters.Closed) != 0;

    /// <inheritdoc/>
    public override bool CanCount => true;

    /// <summary>Items queued and not yet read (a write counts from the moment it takes its place).</summary>
    public override int Count => (int)Math.Clamp(Placed(Volatile.Read(ref _counters.Writes)) - Volatile.Read(ref _counters.Reads), 0, Capacity);

    /// <summary>Completes once the queue is closed and every item in it has been read; faults with the close's error if it had one.</summary>
    public override Task Completion => _completion.Task;

    /// <summary>Queues <paramref name="item"/> unless the queue is full or closed; never waits.</summary>
    public SocketQueueWrite TryWrite(in T item)
    {
        long writes = Volatile.Read(ref _counters.Writes);
        while (true)
        {
            if ((writes & ClosedMark) != 0)
            {
                return SocketQueueWrite.Closed;
            }

            if (writes - Volatile.Read(ref _counters.ReadsSeenByWriters) >= Capacity)
            {
                long reads = Volatile.Read(ref _counters.Reads);
                Volatile.Write(ref _counters.ReadsSeenByWriters, reads);
                if (writes - reads >= Capacity)
                {
                    return SocketQueueWrite.Full;
                }
            }

            long observed = Interlocked.CompareExchange(ref _counters.Writes, writes + 1, writes);
            if (observed == writes)
            {
                break;
            }

            writes = observed;
        }

        try
        {
            _items.Enqueue(item);
        }
        catch
        {
            // The queue could not grow (out of memory): give the place back as if read, so the counts still say
            // what the queue holds and nothing waits for an item that will never land. The item stays the writer's.
            Interlocked.Increment(ref _counters.Reads);
            throw;
        }

        if (Volatile.Read(ref _counters.ReadersWaiting) != 0)
        {
            WakeWaiters();
        }

        return SocketQueueWrite.Queued;
    }

    /// <inheritdoc/>
    public override bool TryRead(out T item)
    {
        if (!_items.TryDequeue(out item!))
        {
            return false;
        }

        long reads = Interlocked.Increment(ref _counters.Reads);
        if (Volatile.Read(ref _counters.Closed) != 0 && reads == Placed(Volatile.Read(ref _counters.Writes)))
        {
            SignalCompletion();
        }

        return true;
    }

    /// <inheritdoc/>
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        SpinWait landing = default;
        while (true)
        {
            if (!_items.IsEmpty)
            {
                return new ValueTask<bool>(true);
            }

            if (ItemsLanding())
            {
                // A writer has its place and is enqueueing, or a reader is counting what it took: either ends in a
                // few instructions.
                landing.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (IsClosed)
            {
                return ClosedWait();
            }

            lock (_waitLock)
            {
                Interlocked.Exchange(ref _counters.ReadersWaiting, 1);
                if (!_items.IsEmpty || ItemsLanding())
                {
                    continue;
                }

                if (IsClosed)
                {
                    return ClosedWait();
                }

                SocketQueueWaiter waiter = !cancellationToken.CanBeCanceled && _reusableWaiter.TryClaim() ? _reusableWaiter : new SocketQueueWaiter(reusable: false);
                _waiters.Add(waiter);

                // Registered while the lock keeps every waker out, so no completion can run before the registration
                // is stored (and unregister an empty one). A token cancelled meanwhile runs CancelWait here, which
                // takes the lock again (Lock is reentrant) and ends the wait.
                if (cancellationToken.CanBeCanceled)
                {
                    waiter.CancelWith(cancellationToken, _cancelWait, waiter);
                }

                return waiter.Wait;
            }
        }
    }

    /// <inheritdoc/>
    public override ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        return TryRead(out T item) ? new ValueTask<T>(item) : ReadWhenQueuedAsync(cancellationToken);
    }

    /// <summary>
    /// Closes the queue: from now on every write is refused. Waiting readers are woken; once the queue is empty,
    /// reads end (with <paramref name="error"/>, if given). False if it was already closed.
    /// </summary>
    public bool TryComplete(Exception? error = null)
    {
        lock (_waitLock)
        {
            if (IsClosed)
            {
                return false;
            }

            _closeError = error;
            Interlocked.Or(ref _counters.Writes, ClosedMark);

            // A full fence, paired with the reader's increment of Reads before it reads Closed: either that reader
            // sees the queue closed, or the read of Reads below sees its count, so the last read is never missed.
            Interlocked.Exchange(ref _counters.Closed, 1);
        }

        if (Volatile.Read(ref _counters.Reads) == Placed(Volatile.Read(ref _counters.Writes)))
        {
            SignalCompletion();
        }

        WakeWaiters();
        return true;
    }

    /// <summary>
    /// After <see cref="TryComplete"/>: hands every item still queued to <paramref name="drained"/>, waiting for
    /// the writes that took their place before the close to land; items other readers take meanwhile are theirs.
    /// </summary>
    public void DrainAfterClose(Action<T> drained)
    {
        long placed = Placed(Volatile.Read(ref _counters.Writes));
        SpinWait landing = default;
        while (Volatile.Read(ref _counters.Reads) < placed)
        {
            if (TryRead(out T item))
            {
                drained(item);
            }
            else
            {
                landing.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    private static long Placed(long writes) => writes & ~ClosedMark;

    private bool ItemsLanding() => Placed(Volatile.Read(ref _counters.Writes)) != Volatile.Read(ref _counters.Reads);

    private ValueTask<bool> ClosedWait() =>
        _closeError is null ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(_closeError);

    private async ValueTask<T> ReadWhenQueuedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            bool open;
            try
            {
                open = await WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (error is not OperationCanceledException and not ChannelClosedException)
            {
                throw new ChannelClosedException(error);
            }

            if (!open)
            {
                throw new ChannelClosedException();
            }

            if (TryRead(out T item))
            {
                return item;
            }
        }
    }

    private void WakeWaiters()
    {
        lock (_waitLock)
        {
            Volatile.Write(ref _counters.ReadersWaiting, 0);
            bool closedAndEmpty = IsClosed && !ItemsLanding() && _items.IsEmpty;
            foreach (SocketQueueWaiter waiter in _waiters)
            {
                if (closedAndEmpty)
                {
                    waiter.Complete(false, _closeError);
                }
                else
                {
                    waiter.Complete(true);
                }
            }

            _waiters.Clear();
        }
    }

    private void CancelWait(object? state, CancellationToken cancellationToken)
    {
        var waiter = (SocketQueueWaiter)state!;
        lock (_waitLock)
        {
            if (!_waiters.Remove(waiter))
            {
                return;
            }
        }

        waiter.Complete(false, new OperationCanceledException(cancellationToken));
    }

    private void SignalCompletion()
    {
        switch (_closeError)
        {
            case null:
                _completion.TrySetResult();
                break;
            case OperationCanceledException canceled:
                _completion.TrySetCanceled(canceled.CancellationToken);
                break;
            default:
                _completion.TrySetException(_closeError);
                break;
        }
    }
}

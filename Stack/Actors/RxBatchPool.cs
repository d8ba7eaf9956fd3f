using System.Collections.Concurrent;

namespace Netmem.Stack.Actors;

/// <summary>
/// The free <see cref="RxBatch"/>es of one RX queue: its driver rents one per poll, the stack actor that handles it
/// gives it back (see <see cref="RxBatch"/> for who owns a batch when).
/// </summary>
/// <remarks>
/// The free list is a <see cref="ConcurrentQueue{T}"/> (renter and returner run on different threads), which
/// allocates only while it grows; <see cref="Rent"/> makes a new batch only when every batch is out. At most
/// <see cref="MaxRetained"/> free batches are kept; past that a returned batch is left to the GC. The count is
/// approximate under races, which only moves that bound by a few batches.
/// </remarks>
public sealed class RxBatchPool
{
    /// <summary>Free batches kept per queue (about 1 KiB each): enough for the batches a slow stack has queued.</summary>
    public const int MaxRetained = 256;

    private readonly ConcurrentQueue<RxBatch> _free = new();
    private int _retained;

    public RxBatchPool(string device, int queueIndex)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        QueueIndex = queueIndex;
    }

    public string Device { get; }

    public int QueueIndex { get; }

    /// <summary>Free batches waiting to be rented.</summary>
    public int FreeCount => Volatile.Read(ref _retained);

    /// <summary>An empty batch for this queue, lent to the caller until a stack actor recycles it.</summary>
    public RxBatch Rent()
    {
        if (!_free.TryDequeue(out RxBatch? batch))
        {
            batch = new RxBatch(this);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }

        batch.MarkLent();
        return batch;
    }

    internal void Return(RxBatch batch)
    {
        if (Interlocked.Increment(ref _retained) > MaxRetained)
        {
            Interlocked.Decrement(ref _retained);
            return;
        }

        _free.Enqueue(batch);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Netmem.Stack.Rx;

/// <summary>
/// The <see cref="RxBatch"/>es of one RX queue: its driver rents one per poll, the stack actor that handles it gives
/// it back (see <see cref="RxBatch"/> for who owns a batch when). It also bounds how far the driver may run ahead of
/// the stack: at most <see cref="MaxLent"/> batches are out at once.
/// </summary>
/// <remarks>
/// <para>The free list is a <see cref="ConcurrentQueue{T}"/> (renter and returners run on different threads), which
/// allocates only while it grows; a new batch is made only when the free list is empty. At most
/// <see cref="MaxRetained"/> free batches are kept; past that a returned batch is left to the GC (the count is
/// approximate under races, which only moves that bound by a few batches).</para>
/// <para>The bound is NAPI's: a driver cannot get further ahead of the stack than its budget there, because the
/// stack runs inside the poll. Here the stack runs in another actor, so without a bound a driver polling at line
/// rate fills the stack's mailbox with thousands of batches, and every page in them is a page its pool must bring
/// in (and map) and later release (and unmap) when the burst drains past its recycle ring. With the bound the
/// driver stops when <see cref="MaxLent"/> batches are out and is resumed by the first one given back; frames wait
/// on the wire meanwhile, as they would in a real NIC's FIFO.</para>
/// <para>Wake-up without loss (a Dekker handshake on two words, each written with a full fence before the other is
/// read): a renter that finds the bound reached sets <c>_waiting</c> and then reads <c>_lent</c> again; a returner
/// decrements <c>_lent</c> and then reads <c>_waiting</c>. At least one of them sees the other's write, so either
/// the renter sees room and takes its registration back, or the returner sees the registration and claims it. The
/// claim is an exchange to 0, so exactly one party ends a registration: the renter (which then rents at once) or one
/// returner (which calls the resume callback once). The renter rents nothing while registered.</para>
/// </remarks>
public sealed class RxBatchPool
{
    /// <summary>Free batches kept (about 1 KiB each).</summary>
    public const int MaxRetained = 256;

    private readonly ConcurrentQueue<RxBatch> _free = new();
    private readonly Action? _resume;
    private readonly RxFrameFormat _format = RxFrameFormat.Ethernet;
    private int _retained;
    private int _lent;
    private int _waiting;

    /// <param name="device">The device's name, for metric tags.</param>
    /// <param name="queueIndex">The RX queue the batches serve.</param>
    /// <param name="maxLent">The most batches out at once.</param>
    /// <param name="resume">Called once, on the returning thread, when a batch comes back to a renter that found the bound reached.</param>
    public RxBatchPool(string device, int queueIndex, int maxLent = int.MaxValue, Action? resume = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLent);
        Device = device;
        QueueIndex = queueIndex;
        MaxLent = maxLent;
        _resume = resume;
    }

    /// <summary>The name of the device whose queue the batches serve; every batch rented carries it.</summary>
    public string Device { get; }

    /// <summary>The RX queue the batches serve; every batch rented carries it.</summary>
    public int QueueIndex { get; }

    /// <summary>What the queue's frames hold, as its device declared it; every batch rented carries it. <see cref="RxFrameFormat.Ethernet"/> by default.</summary>
    public RxFrameFormat Format
    {
        get => _format;
        init => _format = value ?? throw new ArgumentNullException(nameof(Format), "A batch pool needs the frame format of its queue's device: Ethernet frames, or the UDP payloads of a flow.");
    }

    /// <summary>The most batches out at once: how far the driver may run ahead of the stack before <see cref="TryRent"/> refuses.</summary>
    public int MaxLent { get; }

    /// <summary>Batches rented and not yet given back.</summary>
    public int LentCount => Volatile.Read(ref _lent);

    /// <summary>Free batches waiting to be rented.</summary>
    public int FreeCount => Volatile.Read(ref _retained);

    /// <summary>
    /// An empty batch for this queue, lent to the caller until it is given back; false when <see cref="MaxLent"/>
    /// batches are out, in which case the resume callback will be called once when one comes back. One renter.
    /// </summary>
    public bool TryRent([NotNullWhen(true)] out RxBatch? batch)
    {
        batch = null;
        if (Volatile.Read(ref _lent) >= MaxLent)
        {
            Interlocked.Exchange(ref _waiting, 1);
            if (Volatile.Read(ref _lent) >= MaxLent || Interlocked.CompareExchange(ref _waiting, 0, 1) != 1)
            {
                // Still full, or a returner already claimed the registration: the resume call is coming.
                return false;
            }
        }

        Interlocked.Increment(ref _lent);
        if (_free.TryDequeue(out batch))
        {
            Interlocked.Decrement(ref _retained);
        }
        else
        {
            batch = new RxBatch(this);
        }

        batch.MarkLent();
        return true;
    }

    /// <summary>A recycled batch: kept for the next rent (within <see cref="MaxRetained"/>) and its lending ended.</summary>
    internal void Return(RxBatch batch)
    {
        if (Interlocked.Increment(ref _retained) > MaxRetained)
        {
            Interlocked.Decrement(ref _retained);
        }
        else
        {
            _free.Enqueue(batch);
        }

        EndLending();
    }

    /// <summary>A lending that ended without the batch coming back (it is left to the GC).</summary>
    internal void EndLending()
    {
        Interlocked.Decrement(ref _lent);
        if (Volatile.Read(ref _waiting) != 0 && Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _resume?.Invoke();
        }
    }
}

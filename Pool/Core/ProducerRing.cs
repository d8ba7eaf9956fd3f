using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Netmem.Pool.Core;

/// <summary>
/// One returning thread's share of a pool's recycle ring: a bounded single-producer, single-consumer queue of item
/// ids. <see cref="RecycleRing"/> says who the one producer and the one consumer are and why each is unique.
/// </summary>
/// <remarks>
/// <para>Algorithm: Lamport's bounded SPSC queue with free-running positions (the layout of the Linux kernel's
/// <c>kfifo</c>). The producer owns <c>Tail</c>, the consumer owns <c>Head</c>; both only grow, position p lives in
/// slot p &amp; mask, and the items between Head and Tail are in the ring.</para>
/// <para>Invariants and why they hold:</para>
/// <list type="bullet">
/// <item>0 ≤ Tail − Head ≤ capacity, so the producer never overwrites an item the consumer has not copied out: it
/// writes slot Tail only when Tail − Head &lt; capacity, for a Head it read with an acquire load, and the consumer
/// publishes a Head only by a release store after copying the items below it.</item>
/// <item>The consumer never reads a slot before its item is there: the producer stores the item, then publishes
/// Tail + 1 by a release store; the consumer reads Tail with an acquire load before the slots below it.</item>
/// <item>An enqueue is plain stores plus that one release store (a plain <c>mov</c> on x64): no locked
/// instruction, because no other thread ever writes Tail or a slot at or above Head.</item>
/// <item>A full ring refuses instead of blocking; the caller releases the page (the kernel's <c>ring_full</c>).</item>
/// </list>
/// <para>The producer keeps the last Head it read (<c>HeadSeenByProducer</c>) and reads the consumer's again only
/// when the ring looks full, so it refuses only a ring that was full at that read, and an enqueue otherwise touches
/// only the producer's own cache line (which the consumer reads Tail from).</para>
/// </remarks>
internal sealed class ProducerRing
{
    private readonly int[] _items;
    private readonly int _mask;
    private Positions _positions;

    public ProducerRing(int capacity)
    {
        if (capacity < 2 || !int.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Ring capacity must be a power of two of at least 2.");
        }

        _items = new int[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _items.Length;

    /// <summary>Every item ever enqueued: the tail moves by exactly one per enqueue, so it is also the count.</summary>
    public long TotalEnqueued => Volatile.Read(ref _positions.Tail);

    /// <summary>Items in the ring now (a snapshot when read off the producer and consumer).</summary>
    public int Count => (int)Math.Max(0, Volatile.Read(ref _positions.Tail) - Volatile.Read(ref _positions.Head));

    /// <summary>Adds an item; only this ring's producer calls it. False when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(int item)
    {
        long tail = _positions.Tail;
        if (tail - _positions.HeadSeenByProducer == _items.Length)
        {
            _positions.HeadSeenByProducer = Volatile.Read(ref _positions.Head);
            if (tail - _positions.HeadSeenByProducer == _items.Length)
            {
                return false;
            }
        }

        _items[(int)tail & _mask] = item;
        Volatile.Write(ref _positions.Tail, tail + 1);
        return true;
    }

    /// <summary>Moves up to <paramref name="destination"/>.Length items out, oldest first; only the consumer calls it.</summary>
    public int DequeueBatch(Span<int> destination)
    {
        long head = _positions.Head;
        int count = (int)Math.Min(Volatile.Read(ref _positions.Tail) - head, destination.Length);
        for (int i = 0; i < count; i++)
        {
            destination[i] = _items[(int)(head + i) & _mask];
        }

        if (count > 0)
        {
            Volatile.Write(ref _positions.Head, head + count);
        }

        return count;
    }

    // The producer's line (Tail and the Head it last saw) and the consumer's line (Head) are 64 bytes apart and 64
    // bytes from the ring's other fields and whatever follows the object, so an enqueue and a drain do not false-share.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Positions
    {
        [FieldOffset(64)]
        public long Tail;

        [FieldOffset(72)]
        public long HeadSeenByProducer;

        [FieldOffset(128)]
        public long Head;
    }
}

namespace Netmem.Benchmarks.Support;

/// <summary>
/// A bounded single-producer single-consumer ring that hands buffers from the allocating owner to one returning
/// thread (the kernel cross-CPU bench's per-CPU ptr_ring).
/// </summary>
/// <remarks>
/// <para>Intent: move items between exactly two threads with no lock, no allocation and no interlocked operation,
/// so the handoff adds as little as possible to the return path being measured.</para>
/// <para>Invariants: only the producer writes <c>_tail</c> and the slots at positions ≥ head; only the consumer
/// writes <c>_head</c>. 0 ≤ tail − head ≤ capacity at all times.</para>
/// <para>Why they hold: the producer stores the item, then publishes the new tail with a release store; the consumer
/// reads the tail with an acquire load before reading the item, so it never sees a slot before its item. The
/// consumer reads the item, then publishes the new head with a release store; the producer reads the head with an
/// acquire load before reusing that slot, so it never overwrites an item not yet taken. Positions are 64-bit and
/// never wrap in practice. Head and tail sit on separate cache lines so the two threads do not false-share.</para>
/// </remarks>
public sealed class SpscHandoff<T>
{
    private readonly T[] _slots;
    private readonly int _mask;
    private PaddedPosition _head;
    private PaddedPosition _tail;

    public SpscHandoff(int capacity)
    {
        if (capacity < 2 || !int.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Capacity must be a power of two of at least 2.");
        }

        _slots = new T[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Producer only: false when the ring is full.</summary>
    public bool TryEnqueue(T item)
    {
        long tail = _tail.Value;
        if (tail - Volatile.Read(ref _head.Value) == _slots.Length)
        {
            return false;
        }

        _slots[tail & _mask] = item;
        Volatile.Write(ref _tail.Value, tail + 1);
        return true;
    }

    /// <summary>Consumer only: false when the ring is empty.</summary>
    public bool TryDequeue(out T item)
    {
        long head = _head.Value;
        if (head == Volatile.Read(ref _tail.Value))
        {
            item = default!;
            return false;
        }

        item = _slots[head & _mask];
        Volatile.Write(ref _head.Value, head + 1);
        return true;
    }
}

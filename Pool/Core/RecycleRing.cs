using System.Runtime.InteropServices;

namespace Netmem.Pool.Core;

/// <summary>
/// The bounded recycle ring (the kernel's <c>ptr_ring</c>): many returning threads produce item ids, the pool's
/// single consumer takes them back in batches of up to 64.
/// </summary>
/// <remarks>
/// <para>Algorithm: Dmitry Vyukov's bounded MPMC queue, as in dotnet/runtime's <c>ConcurrentQueueSegment</c>, with
/// the consumer side specialised to one thread. Each slot carries a sequence number. For position <c>p</c>:
/// sequence == p means the slot is free for the producer that claims p; sequence == p + 1 means it holds the item
/// written at p; the consumer hands it back to producers by storing p + capacity.</para>
/// <para>Invariants and why they hold:</para>
/// <list type="bullet">
/// <item>A position is written by exactly one producer: producers claim it by compare-and-swap on <c>_tail</c>, and
/// only when its slot's sequence equals the position, so a slot still owned by the consumer is never claimed.</item>
/// <item>The consumer never reads a half-written slot: the producer stores the item before it publishes the
/// sequence (a release store), and the consumer reads the sequence (an acquire load) before the item.</item>
/// <item>A full ring rejects instead of blocking (sequence &lt; position): the caller releases the page, which is
/// the kernel's <c>ring_full</c> path.</item>
/// <item>Single consumer, so <c>_head</c> needs no atomics. The consumers are the owner's refill, then destroy's
/// drains, then the release-retry timer, each strictly after the previous. The owner dequeues only inside its
/// <see cref="OwnerSection"/>, after reading the pool Active there; destroy publishes Destroying first and then waits
/// the owner out of the section, and from then on the owner, reading a non-Active state, backs out without touching
/// the ring. The section's leave (a release store) and destroy's wait (acquire loads) order the owner's last
/// <c>_head</c> store before destroy's first read. Destroy creates the timer after its last drain, and the timer
/// never overlaps with itself (<c>_retryBusy</c>). Nothing relies on destroy running in the owner's context: a
/// supervisor may destroy from any thread while the owner is still running.</item>
/// </list>
/// <para><c>_head</c> and <c>_tail</c> sit on their own cache lines so producers and the consumer do not false-share.</para>
/// </remarks>
internal sealed class RecycleRing
{
    private readonly Slot[] _slots;
    private readonly int _mask;
    private PaddedPosition _head;
    private PaddedPosition _tail;

    public RecycleRing(int capacity)
    {
        if (capacity < 2 || !int.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Ring capacity must be a power of two of at least 2.");
        }

        _slots = new Slot[capacity];
        _mask = capacity - 1;
        for (int i = 0; i < capacity; i++)
        {
            _slots[i].Sequence = i;
        }
    }

    public int Capacity => _slots.Length;

    /// <summary>
    /// Every item ever enqueued: the tail position moves by exactly one per successful enqueue, so it is the
    /// kernel's <c>recycle_ring</c> stat without a counter of its own on the return path.
    /// </summary>
    public long TotalEnqueued => Volatile.Read(ref _tail.Value);

    /// <summary>Approximate number of items in the ring.</summary>
    public int Count => (int)Math.Max(0, Volatile.Read(ref _tail.Value) - Volatile.Read(ref _head.Value));

    /// <summary>Adds an item from any thread; false when the ring is full.</summary>
    public bool TryEnqueue(int item)
    {
        while (true)
        {
            long position = Volatile.Read(ref _tail.Value);
            ref Slot slot = ref _slots[position & _mask];
            long sequence = Volatile.Read(ref slot.Sequence);
            long distance = sequence - position;
            if (distance == 0)
            {
                if (Interlocked.CompareExchange(ref _tail.Value, position + 1, position) == position)
                {
                    slot.Item = item;
                    Volatile.Write(ref slot.Sequence, position + 1);
                    return true;
                }
            }
            else if (distance < 0)
            {
                return false;
            }
        }
    }

    /// <summary>Moves up to <paramref name="destination"/>.Length items out; only the single consumer calls it.</summary>
    public int DequeueBatch(Span<int> destination)
    {
        long head = _head.Value;
        int taken = 0;
        while (taken < destination.Length)
        {
            ref Slot slot = ref _slots[head & _mask];
            if (Volatile.Read(ref slot.Sequence) != head + 1)
            {
                break;
            }

            destination[taken++] = slot.Item;
            Volatile.Write(ref slot.Sequence, head + _slots.Length);
            head++;
        }

        Volatile.Write(ref _head.Value, head);
        return taken;
    }

    private struct Slot
    {
        public long Sequence;
        public int Item;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedPosition
    {
        [FieldOffset(64)]
        public long Value;
    }
}

using System.Runtime.CompilerServices;

namespace Netmem.Pool.Core;

/// <summary>
/// The pool's recycle ring (the kernel's <c>ptr_ring</c>): pages returned on any thread wait here, as item ids, for
/// the pool's single consumer to take them back in batches of up to 64. It is one single-producer ring
/// (<see cref="ProducerRing"/>) per returning thread, so that a return makes no locked instruction beyond the
/// compare-and-swap on the item that decides who owns the page.
/// </summary>
/// <remarks>
/// <para>Intent. A return from any thread must make one locked instruction, the item's compare-and-swap, which is
/// what refuses double, stale and racing returns exactly. One ring shared by every returner would need a second
/// one to claim a position (a compare-and-swap on its tail, contended by the returners), and on the Intel machine of
/// BENCHMARKS.md §7 each costs 8–15 ns, about a whole <c>ArrayPool</c> rent and return. A ring per returning
/// thread needs none: an enqueue is plain stores and one release store. (The kernel's ring takes a spinlock
/// instead; per-CPU state is how the kernel avoids shared atomics elsewhere, and threads stand in for CPUs here.)</para>
/// <para>Layout. A returning thread carries a small number (<see cref="RecycleProducer"/>, a thread-static, reused
/// after the thread exits). The pool keeps an array of rings indexed by that number, slot 0 always empty; a thread's
/// ring is created on its first return to this pool. Each ring holds up to the configured ring size
/// (<see cref="PagePoolOptions.PoolSize"/>), so a thread alone sees exactly the ring it saw before: a full ring
/// releases the page (<c>ring_full</c>).</para>
/// <para>Invariants and why they hold:</para>
/// <list type="bullet">
/// <item>Each ring has one producer: only the thread holding its number enqueues into it, and a number is never held
/// by two living threads (<see cref="RecycleProducer"/>). A thread that exits leaves its ring, and whatever is in it,
/// in the array: the consumer keeps draining it, and the next thread given that number continues it.</item>
/// <item>All rings have one consumer, the pool's: the owner's refill, then destroy's
/// drains, then the release-retry timer, each strictly after the previous. The owner drains only inside its
/// <see cref="OwnerSection"/>, after reading the pool Active there; destroy publishes Destroying, waits the owner out
/// of the section, and from then on the owner, reading a non-Active state, backs out without draining. The section's
/// leave (a release store) and destroy's wait (acquire loads) order the owner's last head stores before destroy's
/// first read; destroy creates the timer after its last drain, and the timer never overlaps with itself
/// (<c>_retryBusy</c>). The drain cursor is the consumer's too. Nothing relies on destroy running on the owner's
/// thread.</item>
/// <item>The array of rings only ever grows by copy: a new ring is created under <c>_growLock</c> (producers
/// creating rings at the same time, never the hot path), placed in a copy of the array and the copy published by a
/// release store; a published array is never written again. A drain reads the array once, with an acquire load, and
/// walks that snapshot, so an array growing meanwhile cannot tear it; a ring added after the read is drained by the
/// next drain.</item>
/// <item>No page is stranded in a ring. A returner that read the pool Active can still be enqueueing (into its ring
/// or a ring it is just creating) after destroy's drains, as with any ring; that page is inflight (hold − release
/// counts it), so the pool cannot reach Released, and the release-retry timer keeps draining, re-reading the array
/// each time, until it has taken the page. Returns that see the pool not Active never enqueue: they are late returns
/// and release the page.</item>
/// <item>The stats need no counter: each ring's tail moves by one per enqueue, so <c>recycle_ring</c> is the sum of
/// the tails, summed by the stats reader with acquire loads; the return path does nothing for it.</item>
/// </list>
/// <para>Bounds. The pages in all rings together never exceed the pages the pool has lent and got back, since a page
/// is in at most one place: the pool keeps no more pages than at its own peak of lent pages; it only releases fewer
/// of them when many threads return at once. The memory is one ring of the configured size, 4 bytes per entry, per
/// thread number that has returned to this pool (4 KiB at the default 1,024), created on that number's first return
/// here, never on the steady path; numbers are reused, so there are never more rings than the most threads that
/// were alive with a number at one time.</para>
/// <para>Fairness. A drain starts at the ring after the one the previous drain stopped at, and takes from each ring
/// in turn until the batch is full, so one busy returner cannot keep the others' pages waiting.</para>
/// </remarks>
internal sealed class RecycleRing
{
    private readonly int _capacityPerProducer;
    private readonly object _growLock = new();
    private ProducerRing?[] _rings = [null];
    private int _nextToDrain;

    public RecycleRing(int capacityPerProducer)
    {
        if (capacityPerProducer < 2 || !int.IsPow2(capacityPerProducer))
        {
            throw new ArgumentOutOfRangeException(nameof(capacityPerProducer), capacityPerProducer, "Ring capacity must be a power of two of at least 2.");
        }

        _capacityPerProducer = capacityPerProducer;
    }

    /// <summary>How many thread numbers have a ring in this pool.</summary>
    public int ProducerCount => Volatile.Read(ref _rings).Count(ring => ring is not null);

    /// <summary>Every item ever enqueued, over all rings: the kernel's <c>recycle_ring</c> stat.</summary>
    public long TotalEnqueued
    {
        get
        {
            long total = 0;
            foreach (ProducerRing? ring in Volatile.Read(ref _rings))
            {
                total += ring?.TotalEnqueued ?? 0;
            }

            return total;
        }
    }

    /// <summary>Items in all rings now (a snapshot).</summary>
    public int Count
    {
        get
        {
            int count = 0;
            foreach (ProducerRing? ring in Volatile.Read(ref _rings))
            {
                count += ring?.Count ?? 0;
            }

            return count;
        }
    }

    /// <summary>Adds an item to the calling thread's ring, creating the ring on the thread's first use; false when that ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(int item)
    {
        ProducerRing?[] rings = Volatile.Read(ref _rings);
        int producer = RecycleProducer.IdOfCurrentThread;
        if ((uint)producer < (uint)rings.Length && rings[producer] is { } ring)
        {
            return ring.TryEnqueue(item);
        }

        return TryEnqueueIntoNewRing(item);
    }

    /// <summary>
    /// Moves up to <paramref name="destination"/>.Length items out of the rings, round-robin; only the single
    /// consumer calls it. Returns 0 only when every ring of the array it read was empty.
    /// </summary>
    public int DequeueBatch(Span<int> destination)
    {
        ProducerRing?[] rings = Volatile.Read(ref _rings);
        int i = _nextToDrain < rings.Length ? _nextToDrain : 0;
        int taken = 0;
        for (int visited = 0; visited < rings.Length && taken < destination.Length; visited++)
        {
            if (rings[i] is { } ring)
            {
                taken += ring.DequeueBatch(destination[taken..]);
            }

            i = i + 1 == rings.Length ? 0 : i + 1;
        }

        _nextToDrain = i;
        return taken;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryEnqueueIntoNewRing(int item)
    {
        int producer = RecycleProducer.AssignToCurrentThread();
        ProducerRing ring;
        lock (_growLock)
        {
            ProducerRing?[] rings = _rings;
            if (producer < rings.Length && rings[producer] is { } inherited)
            {
                // The number was given to this thread just now and its last holder, now exited, had a ring here.
                ring = inherited;
            }
            else
            {
                ring = new ProducerRing(_capacityPerProducer);
                ProducerRing?[] grown = new ProducerRing?[Math.Max(rings.Length, producer + 1)];
                rings.CopyTo(grown, 0);
                grown[producer] = ring;
                Volatile.Write(ref _rings, grown);
            }
        }

        return ring.TryEnqueue(item);
    }
}

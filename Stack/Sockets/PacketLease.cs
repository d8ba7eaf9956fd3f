namespace Netmem.Stack.Sockets;

/// <summary>
/// The shared state of one <see cref="ReceivedPacket"/>: a reusable cell that every copy of the packet points at,
/// which decides the packet's single hand-over to a socket and its single dispose. Cells are recycled through
/// <see cref="PacketLeasePool"/>, so a queued packet allocates nothing.
/// </summary>
/// <remarks>
/// <para>Intent: a packet is a value (copies are free and carry the frame's immutable data), but "hand over once" and
/// "dispose once" need one flag that every copy sees. The cell holds that flag; to let the cell serve many packets in
/// turn without a stale copy of an earlier packet acting on a later one, each use of the cell is a numbered
/// <em>lease</em> and every packet carries the number of the lease it was made under (the same idea as the pool's
/// handle generations).</para>
/// <para>The state word is <c>lease number | handed-over bit</c>; lease numbers are even and only grow (by 2), so
/// bit 0 is free for the flag. Invariants, each kept because every change is one compare-and-swap that first checks
/// the lease number:</para>
/// <list type="bullet">
/// <item>A lease ends exactly once: <see cref="TryEnd"/> swaps <c>n | bit</c> for <c>n + 2</c>; of any number of
/// racing calls for lease <c>n</c> one swap succeeds and every other call then sees a different number and fails.
/// Only the winner returns the packet's buffer and only the winner recycles the cell.</item>
/// <item>A stale copy is inert: once lease <c>n</c> ended the word never holds <c>n</c> again (it only grows; 2⁶²
/// leases per cell cannot wrap), so a copy made under <c>n</c> reads as disposed, cannot be handed over and cannot
/// end the lease of the packet now using the cell. A stale copy therefore can never return the next packet's
/// buffer: it only ever names its own buffer, and only the lease holder may return it.</item>
/// <item>A packet is handed over at most once per lease: <see cref="TryHandOver"/> sets the bit only while it is clear
/// and the lease is current; ending the lease clears it for the next packet.</item>
/// <item>The renter may claim the hand-over with a plain store (<see cref="BeginHandedOver"/>) instead of the
/// compare-and-swap: until it gives the packet to anyone, the renter is the only holder of the new lease's number,
/// and every other change to the word is a compare-and-swap that first checks that number, so no other change can
/// succeed between the rent and the store, and a stale copy's failing swap writes nothing the store could lose. The
/// stack uses it for the packets it makes and queues itself; a packet made by anyone else is claimed by
/// <see cref="TryHandOver"/>, which stays exact against copies.</item>
/// <item>The cell is recycled only after its lease ended, by the single caller whose <see cref="TryEnd"/> succeeded,
/// so it is never in the free list twice and never in it while a lease on it is current.</item>
/// </list>
/// </remarks>
internal sealed class PacketLease
{
    private const long HandedOverBit = 1;
    private const long LeaseStep = 2;

    private long _state = LeaseStep;

    /// <summary>What <see cref="TryHandOver"/> found.</summary>
    public enum HandOver
    {
        Claimed,
        AlreadyHandedOver,
        Ended,
    }

    /// <summary>The current lease's number; meaningful to the one who just rented the cell (nobody else changes it then).</summary>
    public long CurrentLease => Volatile.Read(ref _state) & ~HandedOverBit;

    /// <summary>
    /// The current lease's number, marked handed over: for the renter alone, before anyone else can know the number
    /// (see the remarks for why a plain store is exact then).
    /// </summary>
    public long BeginHandedOver()
    {
        long lease = Volatile.Read(ref _state) & ~HandedOverBit;
        Volatile.Write(ref _state, lease | HandedOverBit);
        return lease;
    }

    public bool IsEnded(long lease) => (Volatile.Read(ref _state) & ~HandedOverBit) != lease;

    /// <summary>Claims lease <paramref name="lease"/>'s single hand-over.</summary>
    public HandOver TryHandOver(long lease)
    {
        long state = Volatile.Read(ref _state);
        while (true)
        {
            if ((state & ~HandedOverBit) != lease)
            {
                return HandOver.Ended;
            }

            if ((state & HandedOverBit) != 0)
            {
                return HandOver.AlreadyHandedOver;
            }

            long seen = Interlocked.CompareExchange(ref _state, state | HandedOverBit, state);
            if (seen == state)
            {
                return HandOver.Claimed;
            }

            state = seen;
        }
    }

    /// <summary>Ends lease <paramref name="lease"/>; true for exactly one caller, who then owns the buffer and the cell.</summary>
    public bool TryEnd(long lease)
    {
        long state = Volatile.Read(ref _state);
        while ((state & ~HandedOverBit) == lease)
        {
            long seen = Interlocked.CompareExchange(ref _state, lease + LeaseStep, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }
}

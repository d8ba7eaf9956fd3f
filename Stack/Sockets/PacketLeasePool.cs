using System.Collections.Concurrent;

namespace Netmem.Stack.Sockets;

/// <summary>
/// The free <see cref="PacketLease"/> cells, shared by every socket: a packet takes one when it is made (on a stack
/// thread) and its disposer gives it back (on any thread).
/// </summary>
/// <remarks>
/// <para>A <see cref="ConcurrentQueue{T}"/> is the free list: lock-free for any number of renters and returners, no
/// ABA (its slots carry sequence numbers), and it allocates only when it grows past the most cells ever free at
/// once, so in a steady state renting and returning allocate nothing. A cell is given back only by the caller whose
/// <see cref="PacketLease.TryEnd"/> succeeded, so no cell is ever in the list twice.</para>
/// <para>At most <see cref="MaxRetained"/> cells are kept (24 bytes each, plus the queue's slot); past that a returned cell is left to the
/// GC, so a burst of held packets does not pin its cells forever. The count is approximate under races (it is
/// adjusted next to, not with, the queue operation), which only moves that bound by a few cells.</para>
/// </remarks>
internal static class PacketLeasePool
{
    public const int MaxRetained = 1 << 16;

    private static readonly ConcurrentQueue<PacketLease> FreeCells = new();
    private static int s_retained;

    public static PacketLease Rent()
    {
        if (FreeCells.TryDequeue(out PacketLease? lease))
        {
            Interlocked.Decrement(ref s_retained);
            return lease;
        }

        return new PacketLease();
    }

    /// <summary>Gives back a cell whose lease has ended (its caller won <see cref="PacketLease.TryEnd"/>).</summary>
    public static void Return(PacketLease lease)
    {
        if (Interlocked.Increment(ref s_retained) > MaxRetained)
        {
            Interlocked.Decrement(ref s_retained);
            return;
        }

        FreeCells.Enqueue(lease);
    }
}

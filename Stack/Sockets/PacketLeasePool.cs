namespace Netmem.Stack.Sockets;

/// <summary>
/// The free <see cref="PacketLease"/> cells, shared by every socket: a packet takes one when it is made (on a stack
/// thread) and its disposer gives it back (on any thread, usually the application's).
/// </summary>
/// <remarks>
/// <para>Intent: renting and returning a cell happen once per packet each, on different threads, and must make no
/// locked instruction on the way (each costs 8–15 ns on the machine of BENCHMARKS.md §7.1; a shared lock-free queue
/// plus a count made four per packet). The design is Bonwick's magazine layer (Bonwick and Adams, "Magazines and
/// Vmem", USENIX 2001), the per-CPU caches of the Solaris and Linux slab allocators, with threads standing in for
/// CPUs: each thread keeps a <em>magazine</em>, a small array of free cells it rents from and returns into with plain
/// loads and stores; only when its magazine is empty (renting) or full (returning) does it go to the shared
/// <em>depot</em>, under a lock, to exchange a whole magazine: an empty one for a full one, or a full one for an
/// empty one. So a thread that only rents (the stack) and one that only returns (a consumer) each take the lock once
/// per <see cref="MagazineSize"/> cells, and cells flow from the returner to the renter a magazine at a time.</para>
/// <para>Invariants and why they hold:</para>
/// <list type="bullet">
/// <item>A cell is in at most one place: one thread's magazine, one full magazine in the depot, or with a packet.
/// A thread's magazine is read and written by that thread alone (a thread-static), and a magazine array moves
/// between a thread and the depot only under the depot's lock, whose release and acquire order every store to the
/// array before the next owner's loads. A cell enters the pool only through <see cref="Return"/>, called only by the
/// single caller whose <see cref="PacketLease.TryEnd"/> succeeded, so it is never returned twice for one lease.</item>
/// <item>A magazine holds exactly its count cells: slots at and above the count are null (a rent clears the slot it
/// takes), so a magazine that changes hands keeps no cell alive that it does not hold, and the depot's full
/// magazines hold exactly <see cref="MagazineSize"/> each.</item>
/// <item>Nothing here decides a cell's meaning: the lease number inside the cell keeps a stale copy of an earlier
/// packet inert (see <see cref="PacketLease"/>) wherever the cell travels, so misuse (disposing twice, use after
/// dispose, handing over twice) is detected exactly as before.</item>
/// </list>
/// <para>Bounds: the depot keeps at most <see cref="MaxRetained"/> cells (a full magazine past that is emptied and
/// its cells left to the GC), and each thread at most one magazine. Renting allocates a cell only when the thread's
/// magazine and the depot are both empty, and magazines are allocated only when the depot has no empty one to give,
/// so in a steady state nothing is allocated. A thread that exits leaves its magazine's cells to the GC.</para>
/// </remarks>
internal static class PacketLeasePool
{
    /// <summary>The most free cells kept in the depot (24 bytes each, plus the magazine's slot).</summary>
    public const int MaxRetained = 1 << 16;

    /// <summary>Cells a magazine holds: the lock is taken once per this many rents, or returns, on one thread.</summary>
    public const int MagazineSize = 64;

    private const int MaxMagazines = MaxRetained / MagazineSize;

    private static readonly Lock s_depotLock = new();
    private static readonly PacketLease?[]?[] s_full = new PacketLease?[MaxMagazines][];
    private static readonly PacketLease?[]?[] s_empty = new PacketLease?[MaxMagazines][];
    private static int s_fullCount;
    private static int s_emptyCount;

    // The thread's magazine: one thread-static reference, so a rent or a return reads the thread's storage once
    // (on Linux each thread-static access may be a call into the C library's TLS lookup).
    [ThreadStatic]
    private static Magazine? t_magazine;

    /// <summary>Full magazines in the depot now (a snapshot).</summary>
    internal static int FullMagazinesInDepot => Volatile.Read(ref s_fullCount);

    public static PacketLease Rent()
    {
        Magazine? magazine = t_magazine;
        if (magazine is not null && magazine.Count > 0)
        {
            int top = --magazine.Count;
            PacketLease lease = magazine.Cells[top]!;
            magazine.Cells[top] = null;
            return lease;
        }

        return RentFromDepot(magazine);
    }

    /// <summary>Gives back a cell whose lease has ended (its caller won <see cref="PacketLease.TryEnd"/>).</summary>
    public static void Return(PacketLease lease)
    {
        Magazine? magazine = t_magazine;
        if (magazine is not null && magazine.Count < MagazineSize)
        {
            magazine.Cells[magazine.Count++] = lease;
            return;
        }

        ReturnToDepot(magazine, lease);
    }

    /// <summary>The thread's magazine is empty (or it has none): trade it for a full one, or make a cell.</summary>
    private static PacketLease RentFromDepot(Magazine? magazine)
    {
        PacketLease?[]? full = null;
        lock (s_depotLock)
        {
            if (s_fullCount > 0)
            {
                full = s_full[--s_fullCount];
                s_full[s_fullCount] = null;
                if (magazine is not null && s_emptyCount < MaxMagazines)
                {
                    s_empty[s_emptyCount++] = magazine.Cells;
                }
            }
        }

        if (full is null)
        {
            return new PacketLease();
        }

        PacketLease lease = full[MagazineSize - 1]!;
        full[MagazineSize - 1] = null;
        Install(magazine, full, MagazineSize - 1);
        return lease;
    }

    /// <summary>The thread's magazine is full (or it has none): trade it for an empty one, then keep the cell.</summary>
    private static void ReturnToDepot(Magazine? magazine, PacketLease lease)
    {
        PacketLease?[]? full = magazine?.Cells;
        PacketLease?[]? empty = null;
        bool kept = full is null;
        lock (s_depotLock)
        {
            if (full is not null && s_fullCount < MaxMagazines)
            {
                s_full[s_fullCount++] = full;
                kept = true;
            }

            if (kept && s_emptyCount > 0)
            {
                empty = s_empty[--s_emptyCount];
                s_empty[s_emptyCount] = null;
            }
        }

        if (!kept)
        {
            // The depot is at its bound: this magazine's cells go to the GC and the thread keeps the array, emptied.
            Array.Clear(full!);
            empty = full;
        }

        empty ??= new PacketLease?[MagazineSize];
        empty[0] = lease;
        Install(magazine, empty, 1);
    }

    /// <summary>Makes <paramref name="cells"/>, holding <paramref name="count"/> cells, the thread's magazine (its first, if it had none).</summary>
    private static void Install(Magazine? magazine, PacketLease?[] cells, int count)
    {
        magazine ??= t_magazine = new Magazine(cells);
        magazine.Cells = cells;
        magazine.Count = count;
    }

    /// <summary>One thread's magazine: its array of free cells and how many it holds (the slots below the count).</summary>
    private sealed class Magazine(PacketLease?[] cells)
    {
        public PacketLease?[] Cells = cells;
        public int Count;
    }
}

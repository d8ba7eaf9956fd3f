namespace Netmem.Pool.Core;

/// <summary>
/// Admits threads to the pool's device (map, unmap, sync) until destroy closes it, lets destroy wait until the
/// threads already inside have left, and lets a supervisor revoke device access altogether, destroy's own walk
/// included. It stands in for the kernel's <c>rcu_read_lock</c> around the DMA calls plus the
/// <c>synchronize_net()</c> in destroy.
/// </summary>
/// <remarks>
/// <para>One word: bit 62 is "closed", bit 61 is "revoked", the low bits count the threads admitted (each of which
/// is in, or on its way into, one device call sequence). Admission is a compare-and-swap that adds one to the count
/// only if the word it replaces carries no refusing bit: "closed or revoked" for ordinary entrants, "revoked" alone
/// for destroy's walk, which must still reach the device after the gate is closed. Closing and revoking set their
/// bit with one atomic OR on the same word.</para>
/// <para>Why it holds: every change to the word is a single atomic read-modify-write, so they are totally ordered.
/// An admission ordered before a close (or revoke) left its count in the word the OR saw, so the closer's wait sees
/// it and waits for its exit. An admission ordered after it compares against a word that carries the bit and fails
/// without changing anything. So (1) no ordinary entrant is inside once <see cref="CloseAndWait"/> returns, and
/// (2) once <see cref="Revoke"/> has returned nobody, the walk included, is admitted again, so the count only goes
/// down from then on and 0 means no device call is running and none can start. Admitting by compare-and-swap
/// instead of increment-then-check costs the same one atomic when uncontended, and a refused thread never touches
/// the word, so <see cref="Admitted"/> never shows a transient entrant after a revocation.</para>
/// <para>A thread is counted from its admission, before it reaches the device: a thread admitted before a
/// revocation may enter its device call after <see cref="Revoke"/> returned, and that call is already in the count,
/// which is what a supervisor waiting for the count to reach 0 relies on. Entrants never wait and revoking never
/// waits, so neither can deadlock; closing waits at most for the device calls already admitted.</para>
/// </remarks>
internal sealed class DeviceAccessGate
{
    private const long ClosedBit = 1L << 62;
    private const long RevokedBit = 1L << 61;
    private const long CountMask = RevokedBit - 1;

    private long _state;

    public bool IsClosed => (Volatile.Read(ref _state) & ClosedBit) != 0;

    public bool IsRevoked => (Volatile.Read(ref _state) & RevokedBit) != 0;

    /// <summary>Threads admitted and not yet left: a plain read of the word.</summary>
    public int Admitted => (int)(Volatile.Read(ref _state) & CountMask);

    /// <summary>Admits an ordinary entrant (releaser, syncer, mapper) unless the gate is closed or revoked.</summary>
    public bool TryEnter() => TryAdmit(ClosedBit | RevokedBit);

    /// <summary>Admits destroy's walk, which runs behind the closed gate, unless access was revoked.</summary>
    public bool TryEnterAsWalker() => TryAdmit(RevokedBit);

    public void Exit() => Interlocked.Decrement(ref _state);

    public void CloseAndWait()
    {
        Interlocked.Or(ref _state, ClosedBit);
        SpinWait spinner = default;
        while ((Volatile.Read(ref _state) & CountMask) != 0)
        {
            spinner.SpinOnce();
        }
    }

    /// <summary>Refuses every later admission, the walk's included; does not wait for those already admitted.</summary>
    public void Revoke() => Interlocked.Or(ref _state, RevokedBit);

    private bool TryAdmit(long refusingBits)
    {
        long state = Volatile.Read(ref _state);
        while ((state & refusingBits) == 0)
        {
            long seen = Interlocked.CompareExchange(ref _state, state + 1, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }

        return false;
    }
}

namespace Netmem.Pool.Core;

/// <summary>
/// Marks the allocation side's owner as inside the pool's owner-only state (alloc cache, recycle-ring consumer,
/// free-item list, fragment carving), so that a destroy racing a still-running owner waits for it to leave instead
/// of draining that state under its feet.
/// </summary>
/// <remarks>
/// Intent. Destroy is meant to run after the owner has stopped allocating (the kernel's NAPI is disabled first),
/// but a supervisor whose driver hangs past its quiesce timeout must destroy anyway, while the device is still
/// bound. Without this section the owner could pop the same cached page destroy releases, or dequeue the ring as
/// a second consumer of a single-consumer ring.
///
/// Protocol (an asymmetric Dekker handshake, as in Linux's membarrier-based RCU flavours):
///   * the owner stores "inside" ≠ 0, then reads the pool state; if it is not Active it leaves without touching
///     anything; otherwise it works and finally stores "inside" back;
///   * destroy publishes the new state by compare-and-swap (a full fence), then issues a process-wide memory
///     barrier, then waits until "inside" reads 0.
/// Why it holds: the process-wide barrier runs a full fence on the owner's processor at some instant t. If the
/// owner's entering store came before t, it is visible to destroy's read after the barrier, and destroy waits for
/// the matching leave. If it came after t, the owner's later read of the state also comes after t, and destroy's state
/// change was globally visible before the barrier began, so the owner sees it and backs out. Either way the owner
/// and destroy never work on owner state at the same time, while the owner pays two plain stores and no atomic
/// instruction per operation. The owner's store-then-load relies on RyuJIT not moving a volatile read above an
/// earlier volatile write (it does not reorder volatile accesses); the processor's own store-load reordering is what
/// the barrier covers.
///
/// The owner never waits, so the section cannot deadlock. Destroy waits at most for one owner operation, which
/// can include a slow-path device map; destroy already waits for such a map at the device gate.
/// </remarks>
internal struct OwnerSection
{
    // The owner's nesting depth (a fragment allocation can recycle the page it stops carving); only the owner
    // writes it, so plain read-modify-write is enough.
    private int _inside;

    public void Enter() => Volatile.Write(ref _inside, _inside + 1);

    public void Leave() => Volatile.Write(ref _inside, _inside - 1);

    /// <summary>Destroy's side, called after the state change is published: returns once the owner is outside.</summary>
    public void WaitForOwnerToLeave()
    {
        Interlocked.MemoryBarrierProcessWide();
        SpinWait spinner = default;
        while (Volatile.Read(ref _inside) != 0)
        {
            spinner.SpinOnce();
        }
    }
}

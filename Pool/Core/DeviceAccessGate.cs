namespace Netmem.Pool.Core;

/// <summary>
/// Admits threads to the pool's device (map, unmap, sync) until destroy closes it, and lets destroy wait until the
/// threads already inside have left. It stands in for the kernel's <c>rcu_read_lock</c> around the DMA calls plus
/// the <c>synchronize_net()</c> in destroy.
/// </summary>
/// <remarks>
/// One word: bit 62 is "closed", the low bits count threads inside. Entering is an increment followed by a check
/// of the closed bit; closing sets the bit and then waits for the count to drain. Both are full fences, so either
/// the entrant's increment is visible to the closer's wait (the closer waits for it), or the closer's bit is visible
/// to the entrant (which backs out without touching the device). No thread can be inside after
/// <see cref="CloseAndWait"/> returns. Entrants never wait, so the gate cannot deadlock; destroy waits at most for
/// the device calls already in progress.
/// </remarks>
internal sealed class DeviceAccessGate
{
    private const long ClosedBit = 1L << 62;

    private long _state;

    public bool IsClosed => (Volatile.Read(ref _state) & ClosedBit) != 0;

    public bool TryEnter()
    {
        if ((Interlocked.Increment(ref _state) & ClosedBit) == 0)
        {
            return true;
        }

        Interlocked.Decrement(ref _state);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _state);

    public void CloseAndWait()
    {
        Interlocked.Or(ref _state, ClosedBit);
        SpinWait spinner = default;
        while ((Volatile.Read(ref _state) & ~ClosedBit) != 0)
        {
            spinner.SpinOnce();
        }
    }
}

using System.Diagnostics;

namespace Netmem.Actors.Devices.Guard;

/// <summary>
/// Counts and records every call the runtime makes into one bind of a device, and refuses new calls once revoked:
/// the last line behind the promise that no device call runs or starts after <c>Unbound</c>.
/// </summary>
/// <remarks>
/// <para>Intent. The pools keep their own exactly-once and no-call-after-destroy rules (their device gate). This
/// guard covers the whole bind — pools, driver receive sides and teardown — so the supervisor can, after any timeout,
/// close the device to everyone and then <i>know</i> when the last call already inside has returned, and name a call
/// that never does.</para>
/// <para>The count. One word: bit 62 is "revoked", the low bits count callers inside. Entering is an increment and
/// then a check of the bit; revoking sets the bit and the supervisor then waits for the count to reach zero. Both are
/// full fences (interlocked), so for any caller and the revoke, either the caller's increment is visible to the
/// supervisor's read (it waits for that caller), or the revoke bit is visible to the caller (it backs out without
/// touching the device). Hence once the supervisor reads a zero count after revoking, no call is inside and none can
/// enter: the device may be torn down and <c>Unbound</c> sent. Callers never wait on the guard, so it cannot
/// deadlock; the supervisor polls, so an actor thread never blocks on it.</para>
/// <para>The records, for diagnostics only. A caller also claims one of a few slots, writes what it is calling, and
/// publishes its start time last; it clears the start time first when it leaves. Each slot is a sequence lock: its
/// sequence word is even while the slot is free and odd while a call owns it; the claim makes it odd by
/// compare-and-swap and the exit even again, so it moves on at every claim and exit (a value comes back only after
/// 2^31 claims of the slot). A reader takes the sequence, the start time, the fields and the sequence again, every
/// one a volatile (acquire) read, so none can be satisfied after the read that follows it, and keeps the record only
/// if the sequence was odd and unchanged and the start time non-zero: no exit and no new claim came in between, so
/// the fields are those of the one call that published that start. Two reads of the start time would not do: a slot
/// released and claimed again within one clock tick would pass; nor would plain reads of the fields, which a weakly
/// ordered processor may satisfy after the second look. With every slot taken a caller is still counted, just not
/// described. The records never decide anything: only the count does.</para>
/// </remarks>
internal sealed class DeviceCallGuard
{
    private const long RevokedBit = 1L << 62;
    private const int SlotCount = 32;

    private readonly CallSlot[] _slots = new CallSlot[SlotCount];
    private long _state;
    private long _refused;

    /// <summary>Whether <see cref="Revoke"/> was called.</summary>
    public bool IsRevoked => (Volatile.Read(ref _state) & RevokedBit) != 0;

    /// <summary>Calls inside the device now. After <see cref="Revoke"/> it only goes down; 0 then means none runs or can start.</summary>
    public int InFlight => (int)(Volatile.Read(ref _state) & ~RevokedBit);

    /// <summary>Calls refused because the guard was revoked.</summary>
    public long RefusedAfterRevoke => Interlocked.Read(ref _refused);

    /// <summary>Enters a call; false (and nothing recorded) once revoked. Every true must be matched by <see cref="Exit"/>.</summary>
    public bool TryEnter(DeviceCallKind kind, int queue, ulong address, out int slot)
    {
        if ((Interlocked.Increment(ref _state) & RevokedBit) != 0)
        {
            Interlocked.Decrement(ref _state);
            Interlocked.Increment(ref _refused);
            slot = -1;
            return false;
        }

        slot = ClaimSlot(kind, queue, address);
        return true;
    }

    /// <summary>Enters a call even when revoked (a receive side being closed after the unbind: see <c>IRxQueueDevice.Close</c>).</summary>
    public int EnterAlways(DeviceCallKind kind, int queue)
    {
        Interlocked.Increment(ref _state);
        return ClaimSlot(kind, queue, 0);
    }

    public void Exit(int slot)
    {
        if (slot >= 0)
        {
            ref CallSlot record = ref _slots[slot];
            Volatile.Write(ref record.StartedAt, 0);
            Volatile.Write(ref record.Sequence, record.Sequence + 1);
        }

        Interlocked.Decrement(ref _state);
    }

    /// <summary>Refuses every call from now on; calls already inside finish. Idempotent; does not wait.</summary>
    public void Revoke() => Interlocked.Or(ref _state, RevokedBit);

    /// <summary>The longest-running call inside the device now, if any is described.</summary>
    public DeviceCallInFlight? OldestCall()
    {
        DeviceCallInFlight? oldest = null;
        long oldestStart = long.MaxValue;
        for (int i = 0; i < _slots.Length; i++)
        {
            ref CallSlot record = ref _slots[i];
            int sequence = Volatile.Read(ref record.Sequence);
            long started = Volatile.Read(ref record.StartedAt);
            if ((sequence & 1) == 0 || started == 0 || started >= oldestStart)
            {
                continue;
            }

            var kind = (DeviceCallKind)Volatile.Read(ref record.Kind);
            int queue = Volatile.Read(ref record.Queue);
            ulong address = Volatile.Read(ref record.Address);
            if (Volatile.Read(ref record.Sequence) != sequence)
            {
                continue;
            }

            oldestStart = started;
            oldest = new DeviceCallInFlight(kind, queue, address, Stopwatch.GetElapsedTime(started));
        }

        return oldest;
    }

    private int ClaimSlot(DeviceCallKind kind, int queue, ulong address)
    {
        int start = Environment.CurrentManagedThreadId % SlotCount;
        for (int n = 0; n < SlotCount; n++)
        {
            int i = (start + n) % SlotCount;
            ref CallSlot record = ref _slots[i];
            int sequence = Volatile.Read(ref record.Sequence);
            if ((sequence & 1) == 0 && Interlocked.CompareExchange(ref record.Sequence, sequence + 1, sequence) == sequence)
            {
                record.Kind = (int)kind;
                record.Queue = queue;
                record.Address = address;
                Volatile.Write(ref record.StartedAt, Math.Max(1, Stopwatch.GetTimestamp()));
                return i;
            }
        }

        return -1;
    }

    private struct CallSlot
    {
        /// <summary>Even: free; odd: owned by a call. Only its owner makes it even again, so it reads its own value plainly.</summary>
        public int Sequence;

        /// <summary>A <see cref="DeviceCallKind"/>, as an int so a reader can read it with a volatile read.</summary>
        public int Kind;
        public int Queue;
        public ulong Address;
        public long StartedAt;
    }
}

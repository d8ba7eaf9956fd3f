using System.Runtime.InteropServices;

namespace Netmem.Stack.Sockets;

/// <summary>The counters and flags of a <see cref="SocketQueue{T}"/>, which says what each means.</summary>
/// <remarks>
/// Three cache lines: the writers' (their counter and the readers' count they last saw), the readers', and the flags
/// that change only when a reader sleeps or the queue closes. They are 64 bytes apart and from the queue's other
/// fields, so a write and a read do not false-share.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct SocketQueueCounters
{
    [FieldOffset(64)]
    public long Writes;

    [FieldOffset(72)]
    public long ReadsSeenByWriters;

    [FieldOffset(128)]
    public long Reads;

    [FieldOffset(192)]
    public int ReadersWaiting;

    [FieldOffset(196)]
    public int Closed;
}

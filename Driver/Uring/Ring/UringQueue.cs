using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// Everything one RX queue owns for the whole bind: its io_uring, the registered-buffer table on it (the queue's DMA
/// domain) and its socket. The receive side (<see cref="UringRxQueue"/>) comes and goes with driver incarnations.
/// </summary>
/// <remarks>
/// <b>One ring per queue</b>, as a NIC has one descriptor ring and one interrupt per queue: each queue's completions
/// (its frames and the unpin confirmations of its pool's pages) arrive in its own CQ, consumed by that queue's driver
/// context only, so no CQ is shared between queues and no cross-queue lock exists; a fault or a full CQ on one queue
/// cannot stall another; and a queue's table limits (16384 slots) apply per queue, as a pool serves one queue.
/// </remarks>
internal sealed class UringQueue : IDisposable
{
    /// <summary>user_data of the multishot receive.</summary>
    public const ulong ReceiveUserData = 1;

    /// <summary>user_data of the cancel that stops it.</summary>
    public const ulong CancelUserData = 2;

    private readonly UringStatistics _stats;

    private int _nextGroupId;

    public UringQueue(int index, IoUringRing ring, RegisteredBufferTable table, FileDescriptorHandle socket, UringStatistics stats)
    {
        Index = index;
        Ring = ring;
        Table = table;
        Socket = socket;
        _stats = stats;
    }

    public int Index { get; }

    public IoUringRing Ring { get; }

    public RegisteredBufferTable Table { get; }

    /// <summary>The queue's socket; a call that passes it to the kernel holds a reference across the call.</summary>
    public FileDescriptorHandle Socket { get; }

    /// <summary>The socket's fd number (for specs that use the socket beside the device).</summary>
    public int SocketFd => Socket.Fd;

    /// <summary>
    /// A buffer group id no receive side of this queue used before: a provided-buffer ring the kernel refused to
    /// unregister keeps its id, so the next incarnation must not ask for it (1 … 65534; 65535 is the bind's probe).
    /// </summary>
    public ushort NextGroupId() => (ushort)((Interlocked.Increment(ref _nextGroupId) - 1) % (ushort.MaxValue - 1) + 1);

    /// <summary>The open receive side, if a driver incarnation has one.</summary>
    public UringRxQueue? OpenRx { get; set; }

    /// <summary>
    /// Consumes what is in the CQ when no receive side is open: unpin confirmations go to the table; anything else
    /// is a completion nobody can own, counted as a violation.
    /// </summary>
    /// <remarks>
    /// A receive whose close timed out may still complete here: its pages were left with the kernel on purpose and
    /// counted then, so its completions are read and dropped.
    /// </remarks>
    public void DrainWithoutReceive()
    {
        // Bounded to one CQ's worth, so a receive still delivering (a close that timed out) cannot hold teardown here.
        Span<IoUringCqe> batch = stackalloc IoUringCqe[64];
        for (uint round = 0; round <= Ring.CompletionEntries / 64; round++)
        {
            int taken;
            lock (Ring.Gate)
            {
                taken = Ring.TakeCompletions(batch);
            }

            if (taken == 0)
            {
                return;
            }

            foreach (IoUringCqe cqe in batch[..taken])
            {
                if ((cqe.UserData & RegisteredBufferTable.TagMarker) != 0)
                {
                    Table.OnUnpinConfirmed(cqe.UserData);
                }
                else if (cqe.UserData is not CancelUserData and not ReceiveUserData)
                {
                    Interlocked.Increment(ref _stats.MisuseViolations);
                }
            }
        }
    }

    /// <summary>Closes the socket and the ring (after the table was revoked and unregistered).</summary>
    public void Dispose()
    {
        Socket.Dispose();
        Ring.Dispose();
    }
}

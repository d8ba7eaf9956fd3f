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

    public UringQueue(int index, IoUringRing ring, RegisteredBufferTable table, int socketFd, UringStatistics stats)
    {
        Index = index;
        Ring = ring;
        Table = table;
        SocketFd = socketFd;
        _stats = stats;
    }

    public int Index { get; }

    public IoUringRing Ring { get; }

    public RegisteredBufferTable Table { get; }

    public int SocketFd { get; }

    /// <summary>The open receive side, if a driver incarnation has one.</summary>
    public UringRxQueue? OpenRx { get; set; }

    /// <summary>
    /// Consumes what is in the CQ when no receive side is open: unpin confirmations go to the table; anything else
    /// is a completion nobody can own, counted as a violation.
    /// </summary>
    public void DrainWithoutReceive()
    {
        lock (Ring.Gate)
        {
            uint consumed = 0;
            while (Ring.TryPeek(consumed, out IoUringCqe cqe))
            {
                consumed++;
                if ((cqe.UserData & RegisteredBufferTable.TagMarker) != 0)
                {
                    Table.OnUnpinConfirmed(cqe.UserData);
                }
                else if (cqe.UserData != CancelUserData)
                {
                    Interlocked.Increment(ref _stats.MisuseViolations);
                }
            }

            Ring.Consume(consumed);
        }
    }

    /// <summary>Closes the socket and the ring (after the table was revoked and unregistered).</summary>
    public void Dispose()
    {
        LinuxSyscalls.Close(SocketFd);
        Ring.Dispose();
    }
}

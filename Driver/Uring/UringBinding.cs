using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Netmem.Uring.Ring;

namespace Netmem.Uring;

/// <summary>
/// One bind of a <see cref="UringDevice"/>: an io_uring per RX queue, each with its registered-buffer table (the
/// queue's DMA domain) and its socket, until <see cref="TearDown"/>.
/// </summary>
/// <remarks>
/// <para>Teardown follows the order the io_uring reference derives: any receive side still open is closed (cancel
/// every receive, reap each final completion, unregister its buffer ring; a driver's late close of the same queue
/// waits for this one and returns 0, and a close that times out leaves its pages with the kernel, reported in
/// <see cref="GetProblems"/>); every slot still installed is cleared in one update per queue, revoked with the domain; the kernel's unpin confirmations are awaited (bounded); then the
/// table is unregistered and the socket and ring closed. Closing a ring is not a barrier (the kernel may finish
/// tearing it down later), which is why every unpin is confirmed before it.</para>
/// <para>After <see cref="TearDown"/> every member refuses, counting a call after unbind as a violation.</para>
/// </remarks>
public sealed class UringBinding : IDeviceBinding
{
    private readonly UringQueue[] _queues;
    private readonly UringStatistics _stats;
    private readonly UringDeviceOptions _options;
    private readonly int _ringSize;
    private readonly Lock _lock = new();
    private bool _tornDown;

    internal UringBinding(UringQueue[] queues, UringStatistics stats, UringDeviceOptions options, int ringSize, int boundPort, string limits)
    {
        _queues = queues;
        _stats = stats;
        _options = options;
        _ringSize = ringSize;
        BoundPort = boundPort;
        LockedMemoryReport = limits;
        FrameFormat = options.Source is UdpSource udp
            ? RxFrameFormat.UdpPayloads(new FlowKey(UnknownSender, IpAddress.From(udp.Endpoint.Address), 0, (ushort)boundPort, IpProtocol.Udp))
            : RxFrameFormat.Ethernet;
    }

    /// <summary>The sender of a datagram a UDP socket receives: a multishot receive does not say who sent it.</summary>
    private static IpAddress UnknownSender => IpAddress.FromIPv4(0);

    /// <summary>RX queues of this bind.</summary>
    public int QueueCount => _queues.Length;

    /// <summary>For a UDP source, the port the queues' sockets are bound to (the chosen one when asked for port 0); 0 otherwise.</summary>
    public int BoundPort { get; }

    /// <summary>
    /// What every queue's frames hold: whole Ethernet frames for a packet source; for a UDP source, the payloads of
    /// the flow <c>UDP 0.0.0.0:0 → address:port</c> (the bound address and port; a UDP socket does not say who sent
    /// a datagram, so the sender is unspecified), the flow a consumer binds to receive them.
    /// </summary>
    public RxFrameFormat FrameFormat { get; }

    /// <summary>The registered-buffer slots each queue got: the ones asked for, or fewer fitted to RLIMIT_MEMLOCK.</summary>
    internal int SlotsPerQueue => _queues[0].Table.Slots;

    /// <summary>The locked-memory budget found at bind, in words (and how the slots were fitted to it).</summary>
    public string LockedMemoryReport { get; }

    /// <summary>Whether <see cref="TearDown"/> has run.</summary>
    public bool IsTornDown
    {
        get
        {
            lock (_lock)
            {
                return _tornDown;
            }
        }
    }

    /// <summary>The counts of this bind so far.</summary>
    public UringCounters GetCounters() => _stats.Snapshot(_queues.Sum(q => (long)q.Table.LiveSlots));

    /// <summary>
    /// What went wrong in this bind that the device could only report, in words: a close that left pages with the
    /// kernel, a provided-buffer ring the kernel refused to unregister (its memory left allocated).
    /// </summary>
    public IReadOnlyList<string> GetProblems() => _stats.Problems;

    /// <summary>The registered-buffer table of queue <paramref name="queue"/>: map installs, unmap clears.</summary>
    public IDmaDevice GetDmaDevice(int queue) => QueueOf(queue, "get a DMA API").Table;

    /// <summary>
    /// Opens queue <paramref name="queue"/>'s receive side for <paramref name="pool"/>, whose pages must be mapped
    /// through <see cref="GetDmaDevice"/> of the same queue (directly or through decorators of it); a posted page
    /// that is not is refused.
    /// </summary>
    public IRxQueueDevice OpenRxQueue(int queue, PagePool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        lock (_lock)
        {
            UringQueue q = QueueOf(queue, "open a receive queue");
            // No check that pool.Device *is* the queue's table: the runtime hands pools a guarded decorator of it (and
            // tests an oracle in front of that), so identity says nothing. What matters is checked per page instead:
            // TryPost refuses a page whose address is not installed in this queue's table.
            if (q.OpenRx is not null)
            {
                Interlocked.Increment(ref _stats.MisuseViolations);
                throw new InvalidOperationException($"Queue {queue}'s receive side is already open; close it before opening it again.");
            }

            q.OpenRx = UringRxQueue.Open(q, pool, _ringSize, FrameFormat, _options.CloseTimeout, _stats);
            return q.OpenRx;
        }
    }

    /// <summary>
    /// Tears every queue down (see the remarks) and reports what was still mapped: <paramref name="revokedMappings"/>
    /// is how many of those the pools left to this teardown on purpose; any more are leaks.
    /// </summary>
    public DeviceTeardownReport TearDown(long revokedMappings)
    {
        lock (_lock)
        {
            if (_tornDown)
            {
                Interlocked.Increment(ref _stats.MisuseViolations);
                throw new InvalidOperationException("The io_uring device binding was already torn down (call after unbind).");
            }

            _tornDown = true;
        }

        foreach (UringQueue queue in _queues)
        {
            try
            {
                queue.OpenRx?.Close();
            }
            catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
            {
                // Counted by Close; teardown goes on with the domain.
            }
        }

        long stillMapped = 0;
        foreach (UringQueue queue in _queues)
        {
            stillMapped += queue.Table.RevokeAll();
        }

        long unconfirmed = AwaitUnpinConfirmations();
        foreach (UringQueue queue in _queues)
        {
            queue.Table.Unregister();
            queue.Dispose();
        }

        Interlocked.Add(ref _stats.MisuseViolations, unconfirmed);
        long leaked = Math.Max(0, stillMapped - revokedMappings);
        return new DeviceTeardownReport(stillMapped, leaked, _stats.Snapshot(0).Violations);
    }

    /// <summary>Waits (bounded) until the kernel confirmed every cleared slot's unpin; returns how many it did not.</summary>
    private long AwaitUnpinConfirmations()
    {
        long deadline = Environment.TickCount64 + (long)_options.TeardownTimeout.TotalMilliseconds;
        while (true)
        {
            long awaiting = 0;
            foreach (UringQueue queue in _queues)
            {
                queue.DrainWithoutReceive();
                awaiting += queue.Table.AwaitingUnpin;
            }

            if (awaiting == 0 || Environment.TickCount64 >= deadline)
            {
                return awaiting;
            }

            foreach (UringQueue queue in _queues)
            {
                if (queue.Table.AwaitingUnpin > 0)
                {
                    queue.Ring.WaitForCompletion(TimeSpan.FromMilliseconds(10));
                }
            }
        }
    }

    private UringQueue QueueOf(int queue, string operation)
    {
        if (IsTornDown)
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
            throw new InvalidOperationException($"Cannot {operation}: the io_uring device binding was torn down (call after unbind).");
        }

        if ((uint)queue >= (uint)_queues.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(queue), queue, $"The binding has {_queues.Length} queues.");
        }

        return _queues[queue];
    }
}

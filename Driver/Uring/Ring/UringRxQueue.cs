using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// The receive side of one RX queue: the driver posts pool pages into the provided-buffer ring, a multishot receive
/// on the queue's socket lets the kernel write one packet into each, and <see cref="Reap"/> turns completions into
/// frames.
/// </summary>
/// <remarks>
/// <para><b>The multishot receive's life.</b> It is armed when a page is posted and none is armed; every completion
/// with IORING_CQE_F_MORE keeps it alive; one without F_MORE ends it, whatever its result. An end with ENOBUFS means
/// the ring ran dry: it is armed again once a page is posted (at the next <see cref="TryPost"/> or
/// <see cref="Reap"/>), never on a timer. Any other error is a fault: <see cref="Reap"/> hands out the frames it
/// already took, then throws, and keeps throwing until <see cref="Close"/>, so the driver restarts the queue.</para>
/// <para><b>Close order</b> (rule 8 of the io_uring reference: unregistering the buffer ring does not wait for its
/// users): stop posting, cancel the receive, reap until its final completion (returning each page a completion
/// names), and only then unregister the ring and return the pages still posted. If the final completion never
/// comes, the ring stays registered and its pages stay with the kernel: a leak, reported, instead of the kernel
/// writing into pages the pool lent again.</para>
/// <para><b>Threading.</b> The driver's context only, one call at a time (the interface's contract); the ring's
/// gate still orders the CQ against the binding's teardown drain. The driver's context may move between threads
/// (an actor, an async loop): io_uring ties a request to the thread that submitted it and cancels it when that
/// thread exits, so an ECANCELED end we did not ask for is re-armed like an ENOBUFS one, not treated as a
/// fault.</para>
/// </remarks>
internal sealed unsafe class UringRxQueue : IRxQueueDevice
{
    private const ushort GroupId = 1;

    private readonly UringQueue _queue;
    private readonly PagePool _pool;
    private readonly ProvidedBufferRing _buffers;
    private readonly UringStatistics _stats;
    private readonly int _capacity;
    private readonly TimeSpan _closeTimeout;
    private bool _armed;
    private bool _endedByEnobufs;
    private bool _closed;
    private Exception? _fault;

    private UringRxQueue(UringQueue queue, PagePool pool, int capacity, int entries, RxFrameFormat format, TimeSpan closeTimeout, UringStatistics stats)
    {
        _queue = queue;
        _pool = pool;
        FrameFormat = format;
        _capacity = capacity;
        _closeTimeout = closeTimeout;
        _stats = stats;
        _buffers = new ProvidedBufferRing(queue.Ring, GroupId, entries);
    }

    /// <summary>Whole frames from a packet socket; payloads of the bound flow from a UDP socket (the binding's).</summary>
    public RxFrameFormat FrameFormat { get; }

    public int Posted => _buffers.Posted;

    /// <summary>The queue's ring, table and socket (for specs).</summary>
    internal UringQueue Queue => _queue;

    /// <summary>The provided-buffer ring (for specs).</summary>
    internal ProvidedBufferRing Buffers => _buffers;

    /// <summary>Whether a multishot receive is armed right now.</summary>
    internal bool IsArmed => _armed;

    /// <summary>Completions the kernel has posted that no reap has taken yet: the frames it has written so far.</summary>
    internal int CompletionsWaiting
    {
        get
        {
            lock (_queue.Ring.Gate)
            {
                uint waiting = 0;
                while (_queue.Ring.TryPeek(waiting, out _))
                {
                    waiting++;
                }

                return (int)waiting;
            }
        }
    }

    /// <summary>
    /// Opens the receive side: registers a provided-buffer ring of <paramref name="capacity"/> pages (rounded up to a
    /// power of two), whose frames hold what <paramref name="format"/> says.
    /// </summary>
    public static UringRxQueue Open(UringQueue queue, PagePool pool, int capacity, RxFrameFormat format, TimeSpan closeTimeout, UringStatistics stats)
    {
        int entries = (int)Math.Min(IoUringAbi.MaxProvidedBufferEntries, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 1)));
        var rx = new UringRxQueue(queue, pool, Math.Min(capacity, entries), entries, format, closeTimeout, stats);
        int result = rx._buffers.Register();
        if (result < 0)
        {
            rx._buffers.Dispose();
            Interlocked.Increment(ref stats.KernelErrors);
            throw new IOException($"Registering the provided-buffer ring of queue {queue.Index} failed: {Errno.Describe(-result)}.");
        }

        return rx;
    }

    public bool TryPost(NetmemRef page)
    {
        ThrowIfClosed("post a page");
        if (_buffers.Posted >= _capacity)
        {
            return false;
        }

        Span<byte> span = page.GetSpan();
        nint host = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref span[0]);
        ulong dma = _pool.GetDmaAddress(page);
        if (!_queue.Table.IsMapped(dma, host))
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
            throw new InvalidOperationException($"{page} is not mapped by queue {_queue.Index}'s DMA API; the device writes only into mapped pages.");
        }

        if (!_buffers.TryPost(page, host, span.Length))
        {
            return false;
        }

        Interlocked.Increment(ref _stats.PagesPosted);
        ArmIfNeeded();
        return true;
    }

    public int Reap(Span<RxFrame> frames)
    {
        ThrowIfClosed("reap");
        int taken = 0;
        lock (_queue.Ring.Gate)
        {
            uint consumed = 0;
            while (_queue.Ring.TryPeek(consumed, out IoUringCqe cqe))
            {
                bool namesPage = cqe.UserData == UringQueue.ReceiveUserData && (cqe.Flags & IoUringAbi.CqeFBuffer) != 0;
                if (namesPage && taken == frames.Length)
                {
                    break;
                }

                consumed++;
                OnCompletion(cqe, frames, ref taken);
            }

            _queue.Ring.Consume(consumed);
        }

        ArmIfNeeded();
        if (taken == 0 && _fault is not null)
        {
            throw _fault;
        }

        return taken;
    }

    /// <summary>
    /// Waits until a completion is in the CQ or <paramref name="timeout"/> passes, for a driver with nothing to do.
    /// </summary>
    internal void WaitForCompletion(TimeSpan timeout) => _queue.Ring.WaitForCompletion(timeout);

    /// <remarks>
    /// Idempotent: a queue the binding's teardown already closed (a driver that hung past the unbind closes it late)
    /// has nothing left, so a second close returns 0 and touches nothing.
    /// </remarks>
    public long Close()
    {
        if (_closed)
        {
            return 0;
        }

        _closed = true;
        long returned = 0;
        if (_armed)
        {
            var cancel = new IoUringSqe { Opcode = IoUringAbi.OpAsyncCancel, Fd = -1, Addr = UringQueue.ReceiveUserData, UserData = UringQueue.CancelUserData };
            int submitted;
            lock (_queue.Ring.Gate)
            {
                submitted = _queue.Ring.Submit(cancel);
            }

            if (submitted < 0)
            {
                Interlocked.Increment(ref _stats.KernelErrors);
            }
        }

        // Reap until the receive's final completion (and whatever else is in the CQ), returning every page named.
        long deadline = Environment.TickCount64 + (long)_closeTimeout.TotalMilliseconds;
        returned += DrainReturningPages();
        while (_armed && Environment.TickCount64 < deadline)
        {
            _queue.Ring.WaitForCompletion(TimeSpan.FromMilliseconds(20));
            returned += DrainReturningPages();
        }

        _queue.OpenRx = null;
        if (_armed)
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
            throw new TimeoutException($"The receive of queue {_queue.Index} did not end within {_closeTimeout.TotalSeconds:0.#} s of its cancel; its {_buffers.Posted} posted pages stay with the kernel.");
        }

        if (_buffers.Unregister() < 0)
        {
            Interlocked.Increment(ref _stats.KernelErrors);
        }

        foreach (NetmemRef page in _buffers.TakeAllPosted())
        {
            _pool.Return(page);
            returned++;
        }

        _buffers.Dispose();
        Interlocked.Add(ref _stats.PagesReturnedByClose, returned);
        return returned;
    }

    private long DrainReturningPages()
    {
        long returned = 0;
        lock (_queue.Ring.Gate)
        {
            uint consumed = 0;
            while (_queue.Ring.TryPeek(consumed, out IoUringCqe cqe))
            {
                consumed++;
                if (cqe.UserData == UringQueue.ReceiveUserData)
                {
                    if ((cqe.Flags & IoUringAbi.CqeFBuffer) != 0 && TryTakePage(cqe, out NetmemRef page))
                    {
                        _pool.Return(page);
                        returned++;
                    }

                    _armed &= (cqe.Flags & IoUringAbi.CqeFMore) != 0;
                }
                else
                {
                    OnOtherCompletion(cqe);
                }
            }

            _queue.Ring.Consume(consumed);
        }

        return returned;
    }

    private void OnCompletion(in IoUringCqe cqe, Span<RxFrame> frames, ref int taken)
    {
        if (cqe.UserData != UringQueue.ReceiveUserData)
        {
            OnOtherCompletion(cqe);
            return;
        }

        if ((cqe.Flags & IoUringAbi.CqeFBuffer) != 0 && TryTakePage(cqe, out NetmemRef page))
        {
            if (cqe.Res > 0)
            {
                frames[taken++] = new RxFrame(page, 0, cqe.Res);
                Interlocked.Increment(ref _stats.FramesReceived);
                Interlocked.Add(ref _stats.BytesReceived, cqe.Res);
            }
            else
            {
                // An empty datagram or an error that still consumed a buffer: the page goes straight back.
                _pool.Return(page);
            }
        }

        if ((cqe.Flags & IoUringAbi.CqeFMore) != 0)
        {
            return;
        }

        _armed = false;
        if (cqe.Res == -Errno.ENOBUFS)
        {
            _endedByEnobufs = true;
        }
        else if (cqe.Res == -Errno.ECANCELED)
        {
            // We cancel only in Close, which never comes here: the kernel cancelled the request because the thread
            // that armed it exited (io_uring requests belong to their submitting task, and a thread-pool thread may
            // retire). Nothing is lost (a cancelled receive consumed no page); the next Reap or TryPost arms it
            // again from a live thread.
        }
        else if (cqe.Res < 0)
        {
            _fault ??= new IOException($"The kernel ended the receive of queue {_queue.Index}: {Errno.Describe(-cqe.Res)}. The queue must be closed and opened again.");
        }
    }

    private bool TryTakePage(in IoUringCqe cqe, out NetmemRef page)
    {
        ushort bid = (ushort)(cqe.Flags >> IoUringAbi.CqeBufferShift);
        if (_buffers.TryComplete(bid, out page))
        {
            return true;
        }

        Interlocked.Increment(ref _stats.MisuseViolations);
        _fault ??= new IOException($"The kernel completed buffer id {bid} on queue {_queue.Index}, which is not posted; the queue must be closed and opened again.");
        return false;
    }

    private void OnOtherCompletion(in IoUringCqe cqe)
    {
        if ((cqe.UserData & RegisteredBufferTable.TagMarker) != 0)
        {
            _queue.Table.OnUnpinConfirmed(cqe.UserData);
        }
        else if (cqe.UserData != UringQueue.CancelUserData)
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
        }
    }

    private void ArmIfNeeded()
    {
        if (_armed || _closed || _fault is not null || _buffers.Posted == 0)
        {
            return;
        }

        var receive = new IoUringSqe
        {
            Opcode = IoUringAbi.OpRecv,
            Flags = IoUringAbi.SqeBufferSelect,
            IoPrio = IoUringAbi.RecvMultishot,
            Fd = _queue.SocketFd,
            UserData = UringQueue.ReceiveUserData,
            BufGroup = _buffers.GroupId,
        };
        int result;
        lock (_queue.Ring.Gate)
        {
            result = _queue.Ring.Submit(receive);
        }

        if (result < 0)
        {
            Interlocked.Increment(ref _stats.KernelErrors);
            _fault = new IOException($"Arming the receive of queue {_queue.Index} failed: {Errno.Describe(-result)}.");
            return;
        }

        _armed = true;
        Interlocked.Increment(ref _stats.ReceiveArms);
        if (_endedByEnobufs)
        {
            _endedByEnobufs = false;
            Interlocked.Increment(ref _stats.EnobufsRearms);
        }
    }

    private void ThrowIfClosed(string operation)
    {
        if (_closed)
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
            throw new InvalidOperationException($"Cannot {operation}: receive queue {_queue.Index} is closed.");
        }
    }
}

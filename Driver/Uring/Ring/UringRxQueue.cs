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
/// <para><b>The multishot receive's life.</b> It is armed when a page is posted and none is live; every completion
/// with IORING_CQE_F_MORE keeps it alive; one without F_MORE ends it, whatever its result. <see cref="_liveReceives"/>
/// counts receives submitted whose final completion was not read yet. An end with ENOBUFS means the ring ran dry:
/// it is armed again once a page is posted (at the next <see cref="TryPost"/> or <see cref="Reap"/>), never on a
/// timer. An arm the kernel did not take (ENOMEM, EAGAIN, EBUSY: the ring took the entry back, so nothing is left to
/// be sent late) is tried again the same way. Any other error is a fault: <see cref="Reap"/> hands out the frames it
/// already took, then throws, and keeps throwing until <see cref="Close"/>, so the driver restarts the queue.</para>
/// <para><b>Whole datagrams only.</b> The receive asks for MSG_TRUNC, so UDP and packet sockets report a datagram's
/// whole length even when the page was shorter. A completion longer than its page is a cut datagram: it is dropped
/// (the page goes straight back) and counted, never handed up as if it were whole.</para>
/// <para><b>Completions are consumed before their side effects.</b> <see cref="Reap"/> copies a batch of CQEs out
/// and gives the slots back to the kernel first, then handles each: a page return that throws (the pool refusing a
/// misused page) cannot leave a completion to be read again against the next page posted under the same buffer id.
/// Every CQE of the batch is handled even then; the frames already taken are kept for <see cref="Close"/> (the
/// contract: a Reap that throws hands nothing out) and the first failure is thrown at the end.</para>
/// <para><b>Close order</b> (rule 8 of the io_uring reference: unregistering the buffer ring does not wait for its
/// users): stop posting, cancel every receive of the queue (IORING_ASYNC_CANCEL_ALL on the receive's user data, so
/// a receive we did not count is cancelled too), reap until the cancel's completion and each cancelled receive's
/// final one are in (returning each page a completion names), and only then unregister the ring and return the
/// pages still posted. A cancel the kernel did not take is submitted again. If the receives do not end before the
/// close timeout, the ring stays registered and its pages stay with the kernel, out of the pool for good: a leak,
/// counted and reported, instead of the kernel writing into pages the pool lent again.</para>
/// <para><b>Threading.</b> <see cref="TryPost"/> and <see cref="Reap"/> come from the driver's context, one at a
/// time; <see cref="Close"/> may come from anywhere, even twice at once (the binding's teardown and a driver that
/// hung past the unbind). Three mechanisms make that safe. (1) <see cref="_closing"/> goes from 0 to 1 by one
/// compare-and-swap: the caller that wins closes, any other waits on <see cref="_closed"/> and returns 0, so pages
/// are returned once and nobody reads the CQ of a ring another closer is tearing down. (2) Driver calls run under
/// <see cref="_calls"/>, which the closer takes (bounded by the close timeout) before it cancels: a Reap or TryPost
/// in flight finishes first (a receive it arms is then cancelled too), and one that comes later sees the queue
/// closed. If the call in flight does not return in time, the close leaves the pages with the kernel as above. (3)
/// The ring's own gate orders the CQ against the binding's teardown drain, and its handle keeps ring memory mapped
/// under any call still inside. The driver's context may move between threads (an actor, an async loop): io_uring
/// ties a request to the thread that submitted it and cancels it when that thread exits, so an ECANCELED end we did
/// not ask for is re-armed like an ENOBUFS one, not treated as a fault.</para>
/// <para><b>Hot path.</b> Reap and TryPost allocate nothing: the CQE batch is on the stack, the bid and key tables
/// are arrays sized at open, and <see cref="_calls"/> is an uncontended lock except while a close waits.</para>
/// </remarks>
internal sealed unsafe class UringRxQueue : IRxQueueDevice
{
    private const int CompletionBatch = 64;

    private readonly UringQueue _queue;
    private readonly PagePool _pool;
    private readonly ProvidedBufferRing _buffers;
    private readonly UringStatistics _stats;
    private readonly int _capacity;
    private readonly TimeSpan _closeTimeout;
    private readonly Lock _calls = new();
    private readonly ManualResetEventSlim _closed = new(false);
    private readonly List<NetmemRef> _kept = new();
    private UringInterruptLine? _line;
    private int _closing;
    private int _liveReceives;
    private bool _endedByEnobufs;
    private bool _cancelCompleted;
    private int _cancelResult;
    private int _finalsSinceCancel;
    private Exception? _fault;

    private UringRxQueue(UringQueue queue, PagePool pool, int capacity, int entries, RxFrameFormat format, TimeSpan closeTimeout, UringStatistics stats)
    {
        _queue = queue;
        _pool = pool;
        FrameFormat = format;
        _capacity = capacity;
        _closeTimeout = closeTimeout;
        _stats = stats;
        _buffers = new ProvidedBufferRing(queue.Ring, queue.NextGroupId(), entries, queue.Table.Slots);
    }

    /// <summary>Whole frames from a packet socket; payloads of the bound flow from a UDP socket (the binding's).</summary>
    public RxFrameFormat FrameFormat { get; }

    public int Posted => _buffers.Posted;

    /// <summary>The queue's interrupt, raised by its interrupt line when the kernel posts a completion.</summary>
    public RxInterrupt? Interrupt => _line?.Interrupt;

    /// <summary>The queue's ring, table and socket (for specs).</summary>
    internal UringQueue Queue => _queue;

    /// <summary>The provided-buffer ring (for specs).</summary>
    internal ProvidedBufferRing Buffers => _buffers;

    /// <summary>Whether a multishot receive is live right now.</summary>
    internal bool IsArmed => Volatile.Read(ref _liveReceives) > 0;

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

        rx._line = new UringInterruptLine(queue.Ring, queue.Index, rx.ReceiveToArmAgain);
        return rx;
    }

    public bool TryPost(NetmemRef page)
    {
        // Checked before the lock too, so a driver that calls on after a close began fails at once instead of
        // waiting for the close to finish.
        ThrowIfClosed("post a page");
        lock (_calls)
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

            int key = _queue.Table.SlotOf(dma);
            if (_buffers.IsPosted(key))
            {
                Interlocked.Increment(ref _stats.MisuseViolations);
                throw new InvalidOperationException($"{page} is already posted to queue {_queue.Index}; a page is posted once, until its frame is reaped or the queue closes.");
            }

            if (!_buffers.TryPost(page, host, span.Length, key))
            {
                return false;
            }

            Interlocked.Increment(ref _stats.PagesPosted);
            ArmIfNeeded();
            return true;
        }
    }

    public int Reap(Span<RxFrame> frames)
    {
        ThrowIfClosed("reap");
        lock (_calls)
        {
            ThrowIfClosed("reap");
            int taken = 0;
            long returned = 0;
            Exception? failure = null;
            Span<IoUringCqe> batch = stackalloc IoUringCqe[CompletionBatch];
            while (taken < frames.Length)
            {
                // At most one frame per completion, so a batch no larger than the room left never overflows frames.
                int count;
                lock (_queue.Ring.Gate)
                {
                    count = _queue.Ring.TakeCompletions(batch[..Math.Min(CompletionBatch, frames.Length - taken)]);
                }

                if (count == 0)
                {
                    break;
                }

                foreach (IoUringCqe cqe in batch[..count])
                {
                    OnCompletion(cqe, frames, ref taken, ref returned, ref failure);
                }
            }

            if (failure is not null)
            {
                // Nothing changes hands when Reap throws: the frames taken stay the device's, for Close to return.
                foreach (RxFrame frame in frames[..taken])
                {
                    _kept.Add(frame.Netmem);
                }

                throw failure;
            }

            ArmIfNeeded();
            if (taken == 0 && _fault is not null)
            {
                throw _fault;
            }

            return taken;
        }
    }

    /// <summary>
    /// Waits until a completion is in the CQ or <paramref name="timeout"/> passes, for a driver with nothing to do.
    /// </summary>
    internal void WaitForCompletion(TimeSpan timeout) => _queue.Ring.WaitForCompletion(timeout);

    /// <remarks>
    /// Runs once: a second caller (the binding's teardown and a driver that hung past the unbind, in either order)
    /// waits until the first has finished and returns 0, touching nothing.
    /// </remarks>
    public long Close()
    {
        if (Interlocked.CompareExchange(ref _closing, 1, 0) != 0)
        {
            _closed.Wait();
            return 0;
        }

        try
        {
            return CloseOnce();
        }
        finally
        {
            _queue.OpenRx = null;
            _closed.Set();
        }
    }

    private long CloseOnce()
    {
        // The line first: the close's own completions (the cancel's, the receive's last) must wake no driver.
        _line?.Dispose();

        long deadline = Environment.TickCount64 + (long)_closeTimeout.TotalMilliseconds;
        if (!_calls.TryEnter(_closeTimeout))
        {
            throw LeaveWithKernel($"the driver's call into queue {_queue.Index} did not return within {_closeTimeout.TotalSeconds:0.#} s");
        }

        try
        {
            long returned = 0;
            Exception? failure = null;
            bool ended = CancelEveryReceive(deadline, ref returned, ref failure);
            if (ended)
            {
                int unregistered = _buffers.Unregister();
                if (unregistered < 0)
                {
                    Interlocked.Increment(ref _stats.KernelErrors);
                    Interlocked.Increment(ref _stats.BufferRingsLeaked);
                    _stats.Report($"The kernel refused to unregister queue {_queue.Index}'s provided-buffer ring (group {_buffers.GroupId}): {Errno.Describe(-unregistered)}; its memory is left allocated for good.");
                }

                // No receive is live, so nothing selects from the ring any more: every page on it is ours again.
                foreach (NetmemRef page in _buffers.TakeAllPosted())
                {
                    ReturnPage(page, ref returned, ref failure);
                }

                _buffers.Dispose();
            }

            // Pages a throwing Reap kept were never the kernel's again: they go back either way.
            foreach (NetmemRef page in _kept)
            {
                ReturnPage(page, ref returned, ref failure);
            }

            _kept.Clear();
            Interlocked.Add(ref _stats.PagesReturnedByClose, returned);
            if (!ended)
            {
                throw LeaveWithKernel($"the receive of queue {_queue.Index} did not end within {_closeTimeout.TotalSeconds:0.#} s of its cancel");
            }

            if (failure is not null)
            {
                throw failure;
            }

            return returned;
        }
        finally
        {
            _calls.Exit();
        }
    }

    /// <summary>
    /// Cancels every receive of the queue and reaps until each has ended; false when the deadline passed first.
    /// Holds <see cref="_calls"/>, so no receive is armed meanwhile.
    /// </summary>
    /// <remarks>
    /// A cancel with IORING_ASYNC_CANCEL_ALL completes with how many requests it cancelled; each of those then posts
    /// its final completion (no F_MORE). The receives have all ended when the cancel's completion is in, as many
    /// finals as it counted are in, and none we armed is still live. A receive that was finishing by itself when the
    /// cancel ran is not counted by it, but is by <see cref="_liveReceives"/>: if one is still live once the
    /// cancel's receives ended, another cancel goes out.
    /// </remarks>
    private bool CancelEveryReceive(long deadline, ref long returned, ref Exception? failure)
    {
        Span<IoUringCqe> batch = stackalloc IoUringCqe[CompletionBatch];
        int noneTaken = 0;
        bool ended = Volatile.Read(ref _liveReceives) <= 0;
        bool cancelInFlight = false;
        while (!ended)
        {
            if (!cancelInFlight)
            {
                _cancelCompleted = false;
                _finalsSinceCancel = 0;
                var cancel = new IoUringSqe
                {
                    Opcode = IoUringAbi.OpAsyncCancel,
                    Fd = -1,
                    Addr = UringQueue.ReceiveUserData,
                    OpFlags = IoUringAbi.AsyncCancelAll,
                    UserData = UringQueue.CancelUserData,
                };
                int submitted;
                lock (_queue.Ring.Gate)
                {
                    submitted = _queue.Ring.Submit(cancel);
                }

                // A cancel the kernel did not take left nothing behind (the ring took it back): it goes again below.
                cancelInFlight = submitted >= 0;
                if (!cancelInFlight)
                {
                    Interlocked.Increment(ref _stats.KernelErrors);
                }
            }

            int count;
            do
            {
                lock (_queue.Ring.Gate)
                {
                    count = _queue.Ring.TakeCompletions(batch);
                }

                foreach (IoUringCqe cqe in batch[..count])
                {
                    OnCompletion(cqe, default, ref noneTaken, ref returned, ref failure);
                }
            }
            while (count > 0);

            if (cancelInFlight && _cancelCompleted)
            {
                if (_cancelResult < 0 && _cancelResult != -Errno.ENOENT)
                {
                    Interlocked.Increment(ref _stats.KernelErrors);
                    cancelInFlight = false;
                }
                else if (_finalsSinceCancel >= Math.Max(0, _cancelResult))
                {
                    cancelInFlight = false;
                    ended = Volatile.Read(ref _liveReceives) <= 0;
                }
            }

            if (!ended)
            {
                if (Environment.TickCount64 >= deadline)
                {
                    return false;
                }

                _queue.Ring.WaitForCompletion(TimeSpan.FromMilliseconds(20));
            }
        }

        return true;
    }

    /// <summary>
    /// Gives up on the pages the kernel may still write into: they stay out of the pool for good (never returned,
    /// never freed), counted and reported. Returns the exception Close throws.
    /// </summary>
    private TimeoutException LeaveWithKernel(string why)
    {
        int left = _buffers.Posted;
        Interlocked.Increment(ref _stats.MisuseViolations);
        Interlocked.Add(ref _stats.PagesLeftWithKernel, left);
        _stats.Report($"Queue {_queue.Index}'s close timed out ({why}): {left} pages left with the kernel, never returned to the pool.");
        return new TimeoutException($"The close of queue {_queue.Index} timed out: {why}; its {left} posted pages stay with the kernel, out of the pool for good.");
    }

    /// <summary>
    /// Handles one consumed completion: the receive's state first (so a page return that throws cannot leave it
    /// wrong), then its page, handed out as a frame when <paramref name="frames"/> has room, returned otherwise.
    /// </summary>
    private void OnCompletion(in IoUringCqe cqe, Span<RxFrame> frames, ref int taken, ref long returned, ref Exception? failure)
    {
        if (cqe.UserData == UringQueue.CancelUserData)
        {
            _cancelCompleted = true;
            _cancelResult = cqe.Res;
            return;
        }

        if (cqe.UserData != UringQueue.ReceiveUserData)
        {
            OnOtherCompletion(cqe);
            return;
        }

        NetmemRef page = default;
        int pageLength = 0;
        bool hasPage = (cqe.Flags & IoUringAbi.CqeFBuffer) != 0 && TryTakePage(cqe, out page, out pageLength);
        if ((cqe.Flags & IoUringAbi.CqeFMore) == 0)
        {
            OnReceiveEnded(cqe.Res);
        }

        if (!hasPage)
        {
            return;
        }

        if (cqe.Res > pageLength)
        {
            // MSG_TRUNC: the datagram was longer than the page, which holds only its first pageLength bytes.
            Interlocked.Increment(ref _stats.DatagramsTooLong);
            ReturnPage(page, ref returned, ref failure);
        }
        else if (cqe.Res > 0 && taken < frames.Length)
        {
            frames[taken++] = new RxFrame(page, 0, cqe.Res);
            Interlocked.Increment(ref _stats.FramesReceived);
            Interlocked.Add(ref _stats.BytesReceived, cqe.Res);
        }
        else
        {
            // An empty datagram, an error that still consumed a buffer, or a frame reaped by Close.
            ReturnPage(page, ref returned, ref failure);
        }
    }

    private void OnReceiveEnded(int result)
    {
        Volatile.Write(ref _liveReceives, _liveReceives - 1);
        _finalsSinceCancel++;
        if (result == -Errno.ENOBUFS)
        {
            _endedByEnobufs = true;
        }
        else if (result == -Errno.ECANCELED)
        {
            // Either our cancel (Close) or the kernel's because the thread that armed it exited (io_uring requests
            // belong to their submitting task, and a thread-pool thread may retire). Nothing is lost (a cancelled
            // receive consumed no page); outside Close the next Reap or TryPost arms it again from a live thread.
        }
        else if (result < 0)
        {
            _fault ??= new IOException($"The kernel ended the receive of queue {_queue.Index}: {Errno.Describe(-result)}. The queue must be closed and opened again.");
        }
    }

    /// <summary>Returns a page to the pool; a refusal is kept as the first failure, never stops the caller's loop.</summary>
    private void ReturnPage(NetmemRef page, ref long returned, ref Exception? failure)
    {
        try
        {
            _pool.Return(page);
            returned++;
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            failure ??= e;
        }
    }

    private bool TryTakePage(in IoUringCqe cqe, out NetmemRef page, out int length)
    {
        ushort bid = (ushort)(cqe.Flags >> IoUringAbi.CqeBufferShift);
        if (_buffers.TryComplete(bid, out page, out length))
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
        else
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
        }
    }

    /// <summary>
    /// Whether a receive is to be armed again (none live, pages posted, no fault): after the kernel refused an arming
    /// for the moment, no completion will come until the driver's next call arms it, so the driver must poll.
    /// Asked by the interrupt on the driver's thread, between its calls.
    /// </summary>
    private bool ReceiveToArmAgain() => Volatile.Read(ref _liveReceives) == 0 && _fault is null && _buffers.Posted > 0;

    /// <summary>Arms a multishot receive when none is live and a page is posted. Caller holds <see cref="_calls"/>.</summary>
    private void ArmIfNeeded()
    {
        if (_liveReceives > 0 || _fault is not null || _buffers.Posted == 0)
        {
            return;
        }

        FileDescriptorHandle socket = _queue.Socket;
        bool added = false;
        int result;
        try
        {
            // The socket's fd stays open across the submission (the kernel takes its own reference when it takes
            // the entry), even if the binding is closing it meanwhile.
            socket.DangerousAddRef(ref added);
            var receive = new IoUringSqe
            {
                Opcode = IoUringAbi.OpRecv,
                Flags = IoUringAbi.SqeBufferSelect,
                IoPrio = IoUringAbi.RecvMultishot,
                Fd = socket.Fd,
                OpFlags = IoUringAbi.MsgTrunc,
                UserData = UringQueue.ReceiveUserData,
                BufGroup = _buffers.GroupId,
            };
            lock (_queue.Ring.Gate)
            {
                result = _queue.Ring.Submit(receive);
            }
        }
        catch (ObjectDisposedException)
        {
            result = -Errno.EBADF;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }

        if (result < 0)
        {
            Interlocked.Increment(ref _stats.KernelErrors);
            if (result is not (-Errno.EAGAIN or -Errno.ENOMEM or -Errno.EBUSY or -Errno.EINTR))
            {
                _fault = new IOException($"Arming the receive of queue {_queue.Index} failed: {Errno.Describe(-result)}.");
            }

            // A transient refusal took nothing: the next TryPost or Reap tries again.
            return;
        }

        Volatile.Write(ref _liveReceives, _liveReceives + 1);
        Interlocked.Increment(ref _stats.ReceiveArms);
        if (_endedByEnobufs)
        {
            _endedByEnobufs = false;
            Interlocked.Increment(ref _stats.EnobufsRearms);
        }
    }

    private void ThrowIfClosed(string operation)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            Interlocked.Increment(ref _stats.MisuseViolations);
            throw new InvalidOperationException($"Cannot {operation}: receive queue {_queue.Index} is closed.");
        }
    }
}

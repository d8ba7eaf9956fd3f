using Netmem.Driver.Devices;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// One io_uring instance: its fd, the mapped submission and completion rings, submission, completion peeking and a
/// bounded wait. Everything above it (the buffer table, the provided-buffer ring, the receive) is built on this.
/// </summary>
/// <remarks>
/// <para><b>Intent.</b> The rings are shared memory with the kernel, so correctness is entirely about who writes
/// which index and which fence publishes what. The device talks to the kernel through this class only, and every
/// kernel call goes through an <see cref="IUringSyscalls"/> (the kernel itself, or a spec's failing stand-in).</para>
/// <para><b>Lifetime.</b> The fd and the three mappings belong to one <see cref="RingHandle"/>. Every member that
/// reads ring memory or passes the fd holds a reference on it (DangerousAddRef … DangerousRelease) for the whole
/// call, so <see cref="Dispose"/> from another thread (a teardown overlapping a late driver call) only marks the
/// ring closed: the memory is unmapped and the fd closed when the last call in flight returns, never under it. A
/// call that finds the ring closed reads nothing and answers EBADF.</para>
/// <para><b>Ownership of the indices</b> (as in liburing and the kernel's io_uring.c):</para>
/// <list type="bullet">
/// <item>SQ tail: written by us only. We fill the SQE (and its index in the SQ array), then
/// <em>release</em>-store the tail. The kernel <em>acquire</em>-loads the tail in io_submit_sqes, so it sees a whole
/// SQE, never a half-written one. Without SQPOLL the kernel reads the SQ only inside io_uring_enter, so once enter
/// returns the slots are free again and the SQ head (written by the kernel) only needs an acquire load to check
/// space.</item>
/// <item>A failed enter takes its entry back. io_uring_enter fails (ENOMEM, EAGAIN, EBUSY, EBADF) only when it
/// consumed no entry; the SQ head says so. Left in the SQ, the entry would go to the kernel with the next enter,
/// late, and in place of the entry that enter meant (a second multishot receive on the same buffer group, a cancel
/// never sent). Since nobody else reads the SQ outside enter and we are its only producer, storing the old tail
/// back when the head did not move removes it as if it had never been written. If the head did move, the kernel
/// has the entry and reports its fate in a completion, so the submission counts as made.</item>
/// <item>CQ tail: written by the kernel only, with a release store after it wrote the CQE. We <em>acquire</em>-load it
/// before reading any CQE, which pairs with that release: every CQE below the tail is complete when we read it.</item>
/// <item>CQ head: written by us only. We <em>release</em>-store it after we copied the CQEs out; the kernel
/// acquire-loads it before reusing a slot, so it never overwrites a CQE we are still reading.</item>
/// </list>
/// <para>.NET's <see cref="Volatile.Read{T}(ref readonly T)"/> is an acquire and <see cref="Volatile.Write{T}(ref T, T)"/>
/// a release on every supported architecture, which is exactly the pairing above (liburing's
/// io_uring_smp_load_acquire / io_uring_smp_store_release).</para>
/// <para><b>Single producer, single consumer.</b> The ring is not thread-safe on the user side: the SQ has one
/// producer and the CQ one consumer. The owner serializes both with <see cref="Gate"/>. io_uring_register is
/// thread-safe in the kernel (it takes the ring's uring_lock), so registrations need no user-side lock.</para>
/// <para><b>Overflow.</b> With IORING_FEAT_NODROP a full CQ keeps extra completions in a kernel list and sets
/// IORING_SQ_CQ_OVERFLOW; they reach the CQ only when someone enters the kernel with GETEVENTS, so a peek that finds
/// the CQ empty with that flag set flushes once.</para>
/// </remarks>
internal sealed unsafe class IoUringRing : IDisposable
{
    private readonly RingHandle _handle;
    private readonly nuint _sqRingBytes;
    private readonly nuint _cqRingBytes;
    private readonly nuint _sqesBytes;
    private readonly IoUringSqe* _sqes;
    private readonly uint* _sqTail;
    private readonly uint* _sqHead;
    private readonly uint* _sqFlags;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly IoUringCqe* _cqes;
    private readonly IUringSyscalls _syscalls;
    private uint _cqHeadLocal;
    private int _disposed;

    private IoUringRing(RingHandle handle, in IoUringParams p, IUringSyscalls syscalls)
    {
        _handle = handle;
        _syscalls = syscalls;
        Features = p.Features;
        CompletionEntries = p.CqEntries;
        _sqEntries = p.SqEntries;
        _sqRingBytes = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingBytes = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(IoUringCqe);
        bool single = (p.Features & IoUringAbi.FeatSingleMmap) != 0;
        if (single)
        {
            // One mapping serves both rings: its size is the larger of the two.
            _sqRingBytes = _cqRingBytes = Math.Max(_sqRingBytes, _cqRingBytes);
        }

        // Each mapping is recorded in the handle as soon as it exists, so a failure further on releases it with the fd.
        nint sqRing = MapOrThrow(handle, _sqRingBytes, IoUringAbi.OffSqRing, "submission ring");
        nint cqRing = single ? sqRing : MapOrThrow(handle, _cqRingBytes, IoUringAbi.OffCqRing, "completion ring");
        _sqesBytes = p.SqEntries * (uint)sizeof(IoUringSqe);
        _sqes = (IoUringSqe*)MapOrThrow(handle, _sqesBytes, IoUringAbi.OffSqes, "submission entries");

        byte* sq = (byte*)sqRing;
        byte* cq = (byte*)cqRing;
        _sqHead = (uint*)(sq + p.SqOff.Head);
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqFlags = (uint*)(sq + p.SqOff.Flags);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = (IoUringCqe*)(cq + p.CqOff.Cqes);
        _cqHeadLocal = *_cqHead;

        // The SQ array indirection is set once to the identity: SQE i is always submitted from array slot i.
        uint* array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
        {
            array[i] = i;
        }
    }

    /// <summary>Serializes the user side of the SQ (one producer) and of the CQ (one consumer).</summary>
    public Lock Gate { get; } = new();

    /// <summary>
    /// What a closed ring's fd reads as: above the kernel's largest possible descriptor (fs.nr_open is capped below
    /// it), so it can never name a file that reused the closed number.
    /// </summary>
    public const int ClosedFd = int.MaxValue;

    /// <summary>The ring fd, or <see cref="ClosedFd"/> once disposed (for diagnostics and specs; calls hold the handle).</summary>
    public int Fd => IsClosed ? ClosedFd : _handle.Fd;

    /// <summary>Whether <see cref="Dispose"/> ran (calls still in flight may hold the ring open until they return).</summary>
    public bool IsClosed => Volatile.Read(ref _disposed) != 0;

    /// <summary>IORING_FEAT_* bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>CQ size the kernel granted.</summary>
    public uint CompletionEntries { get; }

    /// <summary>
    /// Sets a ring up with <paramref name="cqEntries"/> completion slots, calling the kernel through
    /// <paramref name="syscalls"/> (the kernel itself by default). Throws <see cref="DeviceBindException"/> naming
    /// the cause when the kernel refuses.
    /// </summary>
    public static IoUringRing Create(uint sqEntries, uint cqEntries, IUringSyscalls? syscalls = null)
    {
        IoUringAbi.CheckLayouts();
        IoUringParams p = default;
        p.Flags = IoUringAbi.SetupCqSize | IoUringAbi.SetupClamp;
        p.CqEntries = cqEntries;
        int fd = LinuxSyscalls.IoUringSetup(sqEntries, &p);
        if (fd < 0)
        {
            throw new DeviceBindException(KernelSupport.DescribeSetupFailure(-fd));
        }

        var handle = new RingHandle(fd);
        try
        {
            return new IoUringRing(handle, p, syscalls ?? KernelUringSyscalls.Instance);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Submits one SQE and enters the kernel to consume it. Returns 1, or −errno with the entry taken back (see the
    /// remarks). Caller holds <see cref="Gate"/>.
    /// </summary>
    public int Submit(in IoUringSqe sqe)
    {
        if (!TryAddRef())
        {
            return -Errno.EBADF;
        }

        try
        {
            uint tail = *_sqTail;

            // Acquire: the kernel's head store happens after it read the SQE, so a free slot is really free.
            uint head = Volatile.Read(ref *_sqHead);
            if (tail - head >= _sqEntries)
            {
                return -Errno.EBUSY;
            }

            _sqes[tail & _sqMask] = sqe;

            // Release: publishes the SQE written above before the kernel can see the new tail.
            Volatile.Write(ref *_sqTail, tail + 1);
            int result;
            do
            {
                result = _syscalls.Enter(_handle.Fd, 1, 0, 0, null, 0);
            }
            while (result == -Errno.EINTR && Volatile.Read(ref *_sqHead) == tail);

            if (Volatile.Read(ref *_sqHead) != tail)
            {
                // Consumed (an error after consuming is reported in the entry's completion, not here).
                return 1;
            }

            // Nothing consumed: take the entry back, so no later enter sends it.
            Volatile.Write(ref *_sqTail, tail);
            return result < 0 ? result : -Errno.EAGAIN;
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Copies up to <c>into.Length</c> completions out of the CQ and gives their slots back to the kernel at once;
    /// returns how many. The caller handles them after they are consumed, so a handler that throws can never make a
    /// completion be read twice. Caller holds <see cref="Gate"/>.
    /// </summary>
    public int TakeCompletions(Span<IoUringCqe> into)
    {
        if (into.IsEmpty || !TryAddRef())
        {
            return 0;
        }

        try
        {
            uint available = AvailableCompletions();
            int count = (int)Math.Min(available, (uint)into.Length);
            for (int i = 0; i < count; i++)
            {
                into[i] = _cqes[(_cqHeadLocal + (uint)i) & _cqMask];
            }

            ConsumeHeld((uint)count);
            return count;
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Whether the CQ holds a completion not yet consumed: the kernel's tail against the shared head. Any thread
    /// (the queue's interrupt line asks it beside the driver); false once the ring is closed.
    /// </summary>
    public bool HasCompletions
    {
        get
        {
            if (!TryAddRef())
            {
                return false;
            }

            try
            {
                // Acquire on both: the tail pairs with the kernel's release of it, the head with our consumer's.
                return Volatile.Read(ref *_cqTail) != Volatile.Read(ref *_cqHead);
            }
            finally
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Reads the completion <paramref name="skip"/> places after the head without consuming it; false when there is
    /// none or the ring is closed. Caller holds <see cref="Gate"/>.
    /// </summary>
    public bool TryPeek(uint skip, out IoUringCqe cqe)
    {
        cqe = default;
        if (!TryAddRef())
        {
            return false;
        }

        try
        {
            if (AvailableCompletions() <= skip)
            {
                return false;
            }

            cqe = _cqes[(_cqHeadLocal + skip) & _cqMask];
            return true;
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>Gives <paramref name="count"/> peeked completions back to the kernel. Caller holds <see cref="Gate"/>.</summary>
    public void Consume(uint count)
    {
        if (count == 0 || !TryAddRef())
        {
            return;
        }

        try
        {
            ConsumeHeld(count);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Waits until at least one completion is in the CQ or <paramref name="timeout"/> passes (io_uring_enter with
    /// GETEVENTS and a timeout argument). Returns 0, or −errno (−ETIME on timeout). Never holds <see cref="Gate"/>.
    /// </summary>
    public int WaitForCompletion(TimeSpan timeout)
    {
        if ((Features & IoUringAbi.FeatExtArg) == 0)
        {
            // Without a timed wait, never block: the caller polls against its own deadline.
            Thread.Sleep(1);
            return IsClosed ? -Errno.EBADF : 0;
        }

        if (!TryAddRef())
        {
            return -Errno.EBADF;
        }

        try
        {
            long ticks = Math.Max(0, timeout.Ticks);
            var ts = new KernelTimespec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 };
            var arg = new IoUringGeteventsArg { Ts = (ulong)&ts };
            int result = _syscalls.Enter(_handle.Fd, 0, 1, IoUringAbi.EnterGetEvents | IoUringAbi.EnterExtArg, &arg, (nuint)sizeof(IoUringGeteventsArg));
            return result == -Errno.EINTR ? 0 : Math.Min(result, 0);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>io_uring_register on this ring: a non-negative result, or −errno (EBADF once the ring is closed).</summary>
    public int Register(uint opcode, void* argument, uint count)
    {
        if (!TryAddRef())
        {
            return -Errno.EBADF;
        }

        try
        {
            return _syscalls.Register(_handle.Fd, opcode, argument, count);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Closes the ring: the rings are unmapped and the fd closed once no call holds them (see the remarks).
    /// Registered resources go with it, asynchronously (see the callers).
    /// </summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        _handle.Dispose();
    }

    /// <summary>
    /// Takes a reference on the handle for one call; false once the ring is closed. A call that passed the check as
    /// Dispose ran still holds a valid reference (the handle is released only after it), or gets none.
    /// </summary>
    private bool TryAddRef()
    {
        if (IsClosed)
        {
            return false;
        }

        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return added;
    }

    /// <summary>Completions in the CQ, after flushing the kernel's overflow list once if the CQ looks empty. Holds a reference.</summary>
    private uint AvailableCompletions()
    {
        // Acquire: pairs with the kernel's release of the tail, so every CQE below it is fully written.
        uint available = Volatile.Read(ref *_cqTail) - _cqHeadLocal;
        if (available == 0 && (Volatile.Read(ref *_sqFlags) & IoUringAbi.SqCqOverflow) != 0
            && _syscalls.Enter(_handle.Fd, 0, 0, IoUringAbi.EnterGetEvents, null, 0) >= 0)
        {
            available = Volatile.Read(ref *_cqTail) - _cqHeadLocal;
        }

        return available;
    }

    private void ConsumeHeld(uint count)
    {
        if (count == 0)
        {
            return;
        }

        _cqHeadLocal += count;

        // Release: our reads of those CQEs happen before the kernel may overwrite their slots.
        Volatile.Write(ref *_cqHead, _cqHeadLocal);
    }

    private static nint MapOrThrow(RingHandle handle, nuint bytes, long offset, string what)
    {
        nint address = LinuxSyscalls.MapShared(handle.Fd, bytes, offset, out int errno);
        if (address == -1)
        {
            throw new DeviceBindException($"Mapping the io_uring {what} failed: {Errno.Describe(errno)}.");
        }

        handle.AddMapping(address, bytes);
        return address;
    }
}

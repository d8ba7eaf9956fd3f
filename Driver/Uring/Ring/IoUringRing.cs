using Netmem.Driver.Devices;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// One io_uring instance: its fd, the mapped submission and completion rings, submission, completion peeking and a
/// bounded wait. Everything above it (the buffer table, the provided-buffer ring, the receive) is built on this.
/// </summary>
/// <remarks>
/// <para><b>Intent.</b> The rings are shared memory with the kernel, so correctness is entirely about who writes
/// which index and which fence publishes what. The device talks to the kernel through this class only; it never
/// keeps a pointer into ring memory past <see cref="Dispose"/>.</para>
/// <para><b>Ownership of the indices</b> (as in liburing and the kernel's io_uring.c):</para>
/// <list type="bullet">
/// <item>SQ tail: written by us only. We fill the SQE (and its index in the SQ array), then
/// <em>release</em>-store the tail. The kernel <em>acquire</em>-loads the tail in io_submit_sqes, so it sees a whole
/// SQE, never a half-written one. Without SQPOLL the kernel consumes the SQEs inside io_uring_enter, so once enter
/// returns the slots are free again and the SQ head (written by the kernel) only needs an acquire load to check
/// space.</item>
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
    private readonly nint _sqRing;
    private readonly nuint _sqRingBytes;
    private readonly nint _cqRing;
    private readonly nuint _cqRingBytes;
    private readonly nint _sqes;
    private readonly nuint _sqesBytes;
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
    private int _fd;

    private IoUringRing(int fd, in IoUringParams p, IUringSyscalls syscalls)
    {
        _fd = fd;
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

        _sqRing = MapOrThrow(fd, _sqRingBytes, IoUringAbi.OffSqRing, "submission ring");
        try
        {
            _cqRing = single ? _sqRing : MapOrThrow(fd, _cqRingBytes, IoUringAbi.OffCqRing, "completion ring");
            _sqesBytes = p.SqEntries * (uint)sizeof(IoUringSqe);
            _sqes = MapOrThrow(fd, _sqesBytes, IoUringAbi.OffSqes, "submission entries");
        }
        catch
        {
            UnmapAll();
            throw;
        }

        byte* sq = (byte*)_sqRing;
        byte* cq = (byte*)_cqRing;
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
    /// What a closed ring's calls use as fd: above the kernel's largest possible descriptor (fs.nr_open is capped
    /// below it), so a call after close reaches the kernel and fails with EBADF, and can never hit a file that reused
    /// the closed number (fd −1 would not do: io_uring_register treats it as a ringless "blind" registration).
    /// </summary>
    public const int ClosedFd = int.MaxValue;

    /// <summary>The ring fd, or <see cref="ClosedFd"/> once disposed.</summary>
    public int Fd => Volatile.Read(ref _fd);

    /// <summary>Whether <see cref="Dispose"/> ran.</summary>
    public bool IsClosed => Fd == ClosedFd;

    /// <summary>IORING_FEAT_* bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>CQ size the kernel granted.</summary>
    public uint CompletionEntries { get; }

    /// <summary>
    /// Sets a ring up with <paramref name="cqEntries"/> completion slots. Throws <see cref="DeviceBindException"/>
    /// naming the cause when the kernel refuses.
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

        try
        {
            return new IoUringRing(fd, p, syscalls ?? KernelUringSyscalls.Instance);
        }
        catch
        {
            LinuxSyscalls.Close(fd);
            throw;
        }
    }

    /// <summary>Submits one SQE and enters the kernel to consume it. Returns 1, or −errno. Caller holds <see cref="Gate"/>.</summary>
    public int Submit(in IoUringSqe sqe)
    {
        int fd = Fd;
        if (fd == ClosedFd)
        {
            return -Errno.EBADF;
        }

        uint tail = *_sqTail;

        // Acquire: the kernel's head store happens after it read the SQE, so a free slot is really free.
        uint head = Volatile.Read(ref *_sqHead);
        if (tail - head >= _sqEntries)
        {
            return -Errno.EBUSY;
        }

        ((IoUringSqe*)_sqes)[tail & _sqMask] = sqe;

        // Release: publishes the SQE written above before the kernel can see the new tail.
        Volatile.Write(ref *_sqTail, tail + 1);
        int result;
        do
        {
            result = _syscalls.Enter(fd, 1, 0, 0, null, 0);
        }
        while (result == -Errno.EINTR);

        return result;
    }

    /// <summary>
    /// Reads the completion <paramref name="skip"/> places after the head without consuming it; false when there is
    /// none. Caller holds <see cref="Gate"/>.
    /// </summary>
    public bool TryPeek(uint skip, out IoUringCqe cqe)
    {
        // Acquire: pairs with the kernel's release of the tail, so the CQE below it is fully written.
        uint tail = Volatile.Read(ref *_cqTail);
        if (tail - _cqHeadLocal <= skip)
        {
            if (skip == 0 && (Volatile.Read(ref *_sqFlags) & IoUringAbi.SqCqOverflow) != 0 && FlushOverflow() >= 0)
            {
                tail = Volatile.Read(ref *_cqTail);
            }

            if (tail - _cqHeadLocal <= skip)
            {
                cqe = default;
                return false;
            }
        }

        cqe = _cqes[(_cqHeadLocal + skip) & _cqMask];
        return true;
    }

    /// <summary>Gives <paramref name="count"/> peeked completions back to the kernel. Caller holds <see cref="Gate"/>.</summary>
    public void Consume(uint count)
    {
        if (count == 0)
        {
            return;
        }

        _cqHeadLocal += count;

        // Release: our reads of those CQEs happen before the kernel may overwrite their slots.
        Volatile.Write(ref *_cqHead, _cqHeadLocal);
    }

    /// <summary>
    /// Waits until at least one completion is in the CQ or <paramref name="timeout"/> passes (io_uring_enter with
    /// GETEVENTS and a timeout argument). Returns 0, or −errno (−ETIME on timeout). Never holds <see cref="Gate"/>.
    /// </summary>
    public int WaitForCompletion(TimeSpan timeout)
    {
        int fd = Fd;
        if (fd == ClosedFd)
        {
            return -Errno.EBADF;
        }

        if ((Features & IoUringAbi.FeatExtArg) == 0)
        {
            // Without a timed wait, never block: the caller polls against its own deadline.
            Thread.Sleep(1);
            return 0;
        }

        long ticks = Math.Max(0, timeout.Ticks);
        var ts = new KernelTimespec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 };
        var arg = new IoUringGeteventsArg { Ts = (ulong)&ts };
        int result = _syscalls.Enter(fd, 0, 1, IoUringAbi.EnterGetEvents | IoUringAbi.EnterExtArg, &arg, (nuint)sizeof(IoUringGeteventsArg));
        return result == -Errno.EINTR ? 0 : Math.Min(result, 0);
    }

    /// <summary>io_uring_register on this ring: a non-negative result, or −errno.</summary>
    public int Register(uint opcode, void* argument, uint count) => _syscalls.Register(Fd, opcode, argument, count);

    /// <summary>Unmaps the rings and closes the fd. Registered resources go with it, asynchronously (see the callers).</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, ClosedFd);
        if (fd == ClosedFd)
        {
            return;
        }

        UnmapAll();
        LinuxSyscalls.Close(fd);
    }

    private int FlushOverflow() => _syscalls.Enter(Fd, 0, 0, IoUringAbi.EnterGetEvents, null, 0);

    private void UnmapAll()
    {
        if (_sqes != 0)
        {
            LinuxSyscalls.Unmap(_sqes, _sqesBytes);
        }

        if (_cqRing != 0 && _cqRing != _sqRing)
        {
            LinuxSyscalls.Unmap(_cqRing, _cqRingBytes);
        }

        if (_sqRing != 0)
        {
            LinuxSyscalls.Unmap(_sqRing, _sqRingBytes);
        }
    }

    private static nint MapOrThrow(int fd, nuint bytes, long offset, string what)
    {
        nint address = LinuxSyscalls.MapShared(fd, bytes, offset, out int errno);
        if (address == -1)
        {
            throw new DeviceBindException($"Mapping the io_uring {what} failed: {Errno.Describe(errno)}.");
        }

        return address;
    }
}

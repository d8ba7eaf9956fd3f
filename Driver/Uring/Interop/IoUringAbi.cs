using System.Runtime.InteropServices;

namespace Netmem.Uring.Interop;

/// <summary>
/// The io_uring user ABI this device uses (include/uapi/linux/io_uring.h), limited to what it needs. Layouts are
/// fixed by the kernel; the sizes are checked at first use (see <see cref="IoUringAbi.CheckLayouts"/>).
/// </summary>
internal static class IoUringAbi
{
    // io_uring_setup flags.
    public const uint SetupCqSize = 1U << 3;
    public const uint SetupClamp = 1U << 4;

    // io_uring_params.features.
    public const uint FeatSingleMmap = 1U << 0;
    public const uint FeatNoDrop = 1U << 1;
    public const uint FeatExtArg = 1U << 8;
    public const uint FeatRsrcTags = 1U << 10;

    // mmap offsets.
    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;

    // sq_ring flags.
    public const uint SqCqOverflow = 1U << 1;
    public const uint SqTaskRun = 1U << 2;

    // io_uring_enter flags.
    public const uint EnterGetEvents = 1U << 0;
    public const uint EnterExtArg = 1U << 3;

    // Opcodes.
    public const byte OpNop = 0;
    public const byte OpAsyncCancel = 14;
    public const byte OpRecv = 27;
    public const byte OpSendZc = 47;

    // sqe.flags.
    public const byte SqeBufferSelect = 1 << 5;

    // sqe.cancel_flags (the op-flags word) of IORING_OP_ASYNC_CANCEL: every request that matches, not the first.
    public const uint AsyncCancelAll = 1U << 0;

    // sqe.msg_flags (the op-flags word) of a receive: MSG_TRUNC makes UDP and packet sockets return a datagram's
    // whole length even when the buffer was shorter, so a cut datagram is told apart from one that fit.
    public const uint MsgTrunc = 0x20;

    // sqe.ioprio for receives.
    public const ushort RecvMultishot = 1 << 1;

    // cqe.flags.
    public const uint CqeFBuffer = 1U << 0;
    public const uint CqeFMore = 1U << 1;
    public const int CqeBufferShift = 16;

    // io_uring_register opcodes.
    public const uint RegisterBuffers = 0;
    public const uint UnregisterBuffers = 1;
    public const uint RegisterProbe = 8;
    public const uint RegisterBuffers2 = 15;
    public const uint RegisterBuffersUpdate = 16;
    public const uint RegisterPbufRing = 22;
    public const uint UnregisterPbufRing = 23;

    public const uint RsrcRegisterSparse = 1U << 0;
    public const ushort ProbeOpSupported = 1 << 0;

    /// <summary>The kernel's cap on registered buffers (IORING_MAX_REG_BUFFERS).</summary>
    public const int MaxRegisteredBuffers = 1 << 14;

    /// <summary>The largest provided-buffer ring the device asks for (the kernel allows up to 32768 entries).</summary>
    public const int MaxProvidedBufferEntries = 1 << 15;

    /// <summary>The kernel's cap on CQ entries (IORING_MAX_CQ_ENTRIES).</summary>
    public const int MaxCompletionEntries = 1 << 16;

    public static void CheckLayouts()
    {
        if (Marshal.SizeOf<IoUringParams>() != 120 || Marshal.SizeOf<IoUringSqe>() != 64 || Marshal.SizeOf<IoUringCqe>() != 16
            || Marshal.SizeOf<IoUringRsrcUpdate2>() != 32 || Marshal.SizeOf<IoUringRsrcRegister>() != 32
            || Marshal.SizeOf<IoUringBufReg>() != 40 || Marshal.SizeOf<IoUringBuf>() != 16 || Marshal.SizeOf<IoVec>() != 16)
        {
            throw new PlatformNotSupportedException("The io_uring structures do not have the kernel's sizes on this platform.");
        }
    }
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoSqringOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
    public ulong UserAddr;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoCqringOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
    public ulong UserAddr;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParams
{
    public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
    public fixed uint Resv[3];
    public IoSqringOffsets SqOff;
    public IoCqringOffsets CqOff;
}

[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct IoUringSqe
{
    [FieldOffset(0)] public byte Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Off;
    [FieldOffset(16)] public ulong Addr;
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint OpFlags;
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufGroup;
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int SpliceFdIn;
    [FieldOffset(48)] public ulong Addr3;
    [FieldOffset(56)] public ulong Pad;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCqe
{
    public ulong UserData;
    public int Res;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoVec
{
    public nint Base;
    public nuint Length;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRsrcRegister
{
    public uint Nr, Flags;
    public ulong Resv2, Data, Tags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRsrcUpdate2
{
    public uint Offset, Resv;
    public ulong Data, Tags;
    public uint Nr, Resv2;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringBufReg
{
    public ulong RingAddr;
    public uint RingEntries;
    public ushort Bgid, Pad;
    public fixed ulong Resv[3];
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoUringBuf
{
    public ulong Addr;
    public uint Len;
    public ushort Bid;
    public ushort Resv;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IoUringGeteventsArg
{
    public ulong Sigmask;
    public uint SigmaskSz;
    public uint MinWaitUsec;
    public ulong Ts;
}

[StructLayout(LayoutKind.Sequential)]
internal struct KernelTimespec
{
    public long Seconds, Nanoseconds;
}

using System.Runtime.InteropServices;

namespace Netmem.UringBench.Native;

/// <summary>
/// The io_uring system calls and structures the bare receive loop needs (the kernel's layouts, x86-64 and arm64),
/// written out here because the device's own interop is internal to its assembly.
/// </summary>
internal static unsafe partial class UringInterop
{
    // io_uring's numbers are the same in the generic syscall table (arm64) and on x86_64.
    public const long SysSetup = 425;
    public const long SysEnter = 426;
    public const long SysRegister = 427;

    public const uint SetupCqSize = 1U << 3;
    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;
    public const uint EnterGetEvents = 1U << 0;
    public const byte OpRecv = 27;
    public const byte SqeBufferSelect = 1 << 5;
    public const ushort RecvMultishot = 1 << 1;
    public const uint CqeFBuffer = 1U << 0;
    public const uint CqeFMore = 1U << 1;
    public const int CqeBufferShift = 16;
    public const uint RegisterPbufRing = 22;
    public const int Enobufs = 105;
    public const int Eintr = 4;

    public const int ProtReadWrite = 0x1 | 0x2;
    public const int MapShared = 0x01;
    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;
    public const int MapPopulate = 0x8000;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [StructLayout(LayoutKind.Sequential)]
    public struct SqOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CqOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
        public fixed uint Resv[3];
        public SqOffsets SqOff;
        public CqOffsets CqOff;
    }

    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct Sqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(2)] public ushort IoPrio;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(40)] public ushort BufGroup;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Cqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct BufReg
    {
        public ulong RingAddr;
        public uint RingEntries;
        public ushort Bgid, Pad;
        public fixed ulong Resv[3];
    }

    /// <summary>struct io_uring_buf; the ring's tail is the Resv of its first entry (the kernel's union).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Buf
    {
        public ulong Addr;
        public uint Len;
        public ushort Bid;
        public ushort Resv;
    }
}

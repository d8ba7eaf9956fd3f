using System.Runtime.InteropServices;

namespace Netmem.Uring.Interop;

/// <summary>
/// The libc entry points the device needs, bound with source-generated P/Invoke. io_uring has no libc wrapper, so
/// its three system calls go through <c>syscall(2)</c>; every failure comes back as a negative errno, never as an
/// exception, so callers decide whether it is a bind refusal, a violation or a fault.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    private const string Libc = "libc";

    // io_uring's numbers are the same in the generic syscall table (arm64) and on x86_64.
    private const long SysIoUringSetup = 425;
    private const long SysIoUringEnter = 426;
    private const long SysIoUringRegister = 427;

    public const int ProtReadWrite = 0x1 | 0x2;
    public const int MapSharedFlag = 0x01;
    public const int MapPopulate = 0x8000;

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall6(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    private static partial nint MmapRaw(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Libc, EntryPoint = "munmap", SetLastError = true)]
    private static partial int MunmapRaw(nint address, nuint length);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseRaw(int fd);

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketRaw(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    private static partial int BindRaw(int fd, void* address, uint addressLength);

    [LibraryImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOptRaw(int fd, int level, int name, void* value, uint valueLength);

    [LibraryImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOptRaw(int fd, int level, int name, void* value, uint* valueLength);

    [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
    private static partial int GetSockNameRaw(int fd, void* address, uint* addressLength);

    [LibraryImport(Libc, EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint InterfaceIndexOf(string name);

    [LibraryImport(Libc, EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNsRaw(int fd, int namespaceType);

    [LibraryImport(Libc, EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimitRaw(int resource, ulong* limits);

    /// <summary>io_uring_setup(2): the ring fd, or −errno.</summary>
    public static int IoUringSetup(uint entries, IoUringParams* parameters) =>
        (int)Checked(Syscall6(SysIoUringSetup, (nint)entries, (nint)parameters, 0, 0, 0, 0));

    /// <summary>io_uring_enter(2): SQEs consumed, or −errno.</summary>
    public static int IoUringEnter(int fd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
        (int)Checked(Syscall6(SysIoUringEnter, fd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument, (nint)argumentSize));

    /// <summary>io_uring_register(2): a non-negative result, or −errno.</summary>
    public static int IoUringRegister(int fd, uint opcode, void* argument, uint count) =>
        (int)Checked(Syscall6(SysIoUringRegister, fd, (nint)opcode, (nint)argument, (nint)count, 0, 0));

    /// <summary>mmap(2) of a shared, populated mapping of <paramref name="fd"/>; −errno as the address on failure.</summary>
    public static nint MapShared(int fd, nuint length, long offset, out int errno)
    {
        nint address = MmapRaw(0, length, ProtReadWrite, MapSharedFlag | MapPopulate, fd, offset);
        errno = address == -1 ? Marshal.GetLastPInvokeError() : 0;
        return address;
    }

    public static int Unmap(nint address, nuint length) => (int)Checked(MunmapRaw(address, length));

    public static int Close(int fd) => (int)Checked(CloseRaw(fd));

    public static int Socket(int domain, int type, int protocol) => (int)Checked(SocketRaw(domain, type, protocol));

    public static int Bind(int fd, void* address, uint addressLength) => (int)Checked(BindRaw(fd, address, addressLength));

    public static int SetSocketOption(int fd, int level, int name, int value) =>
        (int)Checked(SetSockOptRaw(fd, level, name, &value, sizeof(int)));

    /// <summary>getsockopt(2) of an int option: 0 with <paramref name="value"/>, or −errno.</summary>
    public static int GetSocketOption(int fd, int level, int name, out int value)
    {
        int result = 0;
        uint length = sizeof(int);
        int status = (int)Checked(GetSockOptRaw(fd, level, name, &result, &length));
        value = result;
        return status;
    }

    public static int GetSocketName(int fd, void* address, uint* addressLength) =>
        (int)Checked(GetSockNameRaw(fd, address, addressLength));

    /// <summary>setns(2) into the network namespace behind <paramref name="fd"/>, for the calling thread only: 0 or −errno.</summary>
    public static int EnterNetworkNamespace(int fd) => (int)Checked(SetNsRaw(fd, 0x40000000));

    /// <summary>getrlimit(2): (soft, hard), <see cref="ulong.MaxValue"/> for unlimited.</summary>
    public static (ulong Soft, ulong Hard) GetResourceLimit(int resource)
    {
        ulong* limits = stackalloc ulong[2];
        return GetRLimitRaw(resource, limits) == 0 ? (limits[0], limits[1]) : (ulong.MaxValue, ulong.MaxValue);
    }

    /// <summary>libc's −1-and-errno convention turned into the kernel's −errno one.</summary>
    private static long Checked(long result) => result < 0 ? -Marshal.GetLastPInvokeError() : result;
}

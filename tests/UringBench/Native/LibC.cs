using System.Runtime.InteropServices;

namespace Netmem.UringBench.Native;

/// <summary>The few libc calls the benchmark needs: batched sends, and the process's own CPU time.</summary>
internal static unsafe partial class LibC
{
    public const ushort AfInet = 2;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int fd, MultiMessageHeader* messages, uint count, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getrusage(int who, ResourceUsage* usage);

    /// <summary>User + system CPU of this whole process (every thread: receive loop, GC, actors, timers), in microseconds.</summary>
    public static long ProcessCpuMicroseconds() => ProcessCpuMicroseconds(out _);

    /// <summary>As <see cref="ProcessCpuMicroseconds()"/>, and the system (kernel) part of it.</summary>
    public static long ProcessCpuMicroseconds(out long systemMicroseconds)
    {
        ResourceUsage usage;
        if (getrusage(0, &usage) != 0)
        {
            throw new InvalidOperationException($"Reading this process's CPU time failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        systemMicroseconds = (usage.SystemSeconds * 1_000_000) + usage.SystemMicroseconds;
        return (usage.UserSeconds * 1_000_000) + usage.UserMicroseconds + systemMicroseconds;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct mmsghdr (a msghdr and the byte count the kernel fills in), x86-64/arm64 layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MultiMessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
        public uint Length;
    }

    /// <summary>struct sockaddr_in.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SocketAddressV4
    {
        public ushort Family;
        public ushort PortBigEndian;
        public uint AddressBigEndian;
        public ulong Zero;
    }

    /// <summary>struct rusage: the two timevals, then fourteen longs this benchmark does not read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ResourceUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public fixed long Rest[14];
    }
}

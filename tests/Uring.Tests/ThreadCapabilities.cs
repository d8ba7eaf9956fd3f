using System.Runtime.InteropServices;

namespace Netmem.Uring.Tests;

/// <summary>
/// Drops a capability from the calling thread's effective set (Linux credentials are per thread), so a spec can see
/// the device's refusal without changing the process or the machine.
/// </summary>
internal static unsafe partial class ThreadCapabilities
{
    public const int NetRaw = 13;
    public const int IpcLock = 14;

    private const uint Version3 = 0x20080522;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, void* header, void* data);

    public static void DropEffective(int capability)
    {
        (long capget, long capset) = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? (90L, 91L) : (125L, 126L);
        uint* header = stackalloc uint[2] { Version3, 0 };
        uint* data = stackalloc uint[6];
        if (Syscall(capget, header, data) != 0)
        {
            throw new InvalidOperationException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        }

        data[capability / 32 * 3] &= ~(1U << (capability % 32));
        if (Syscall(capset, header, data) != 0)
        {
            throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}

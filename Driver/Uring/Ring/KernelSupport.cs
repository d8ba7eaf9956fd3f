using Netmem.Driver.Devices;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// What the kernel must offer for the device to bind, checked once per ring at bind and refused in words: io_uring
/// enabled, the features and opcodes the device relies on, and the locked-memory budget for pinned pages.
/// </summary>
internal static unsafe class KernelSupport
{
    private const string DisabledSwitch = "/proc/sys/kernel/io_uring_disabled";
    private const int RlimitMemlock = 8;
    private const int CapIpcLock = 14;
    private const int ProbeOps = 256;

    /// <summary>Refuses before setup when the administrator switched io_uring off for everyone.</summary>
    public static void ThrowIfDisabled()
    {
        string? value = null;
        try
        {
            value = File.Exists(DisabledSwitch) ? File.ReadAllText(DisabledSwitch).Trim() : null;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        if (value == "2")
        {
            throw new DeviceBindException($"io_uring is disabled on this machine ({DisabledSwitch} is 2); set it to 0 to use the io_uring device.");
        }
    }

    /// <summary>Why io_uring_setup failed, in words.</summary>
    public static string DescribeSetupFailure(int errno) => errno switch
    {
        Errno.ENOSYS => "io_uring is not available: the kernel does not implement io_uring_setup (ENOSYS; built without io_uring, or blocked by a seccomp filter).",
        Errno.EPERM => $"io_uring is not permitted for this process (EPERM): {DisabledSwitch} restricts it to privileged users or the io_uring group, or a security policy forbids it.",
        Errno.ENOMEM => "io_uring_setup ran out of memory or over the locked-memory limit (ENOMEM).",
        _ => $"io_uring_setup failed: {Errno.Describe(errno)}.",
    };

    /// <summary>
    /// Probes the ring's features and opcodes (IORING_REGISTER_PROBE) and throws naming the first thing missing.
    /// </summary>
    /// <remarks>
    /// The probe lists opcodes, not flags: multishot receive (IORING_RECV_MULTISHOT) came with Linux 6.0, the same
    /// release as IORING_OP_SEND_ZC, so a kernel that supports SEND_ZC supports multishot receive. Provided-buffer
    /// rings (5.19) and sparse buffer tables with tags (5.19) are checked by registering them, which the bind does
    /// anyway.
    /// </remarks>
    public static void ThrowIfUnsupported(IoUringRing ring)
    {
        if ((ring.Features & IoUringAbi.FeatRsrcTags) == 0)
        {
            throw new DeviceBindException("The kernel's io_uring lacks tagged resource updates (IORING_FEAT_RSRC_TAGS, Linux 5.13+), needed to confirm each unmap.");
        }

        if ((ring.Features & IoUringAbi.FeatNoDrop) == 0)
        {
            throw new DeviceBindException("The kernel's io_uring may drop completions (no IORING_FEAT_NODROP, Linux 5.5+); unmap confirmations could be lost.");
        }

        int bytes = 16 + ProbeOps * 8;
        byte* probe = stackalloc byte[bytes];
        new Span<byte>(probe, bytes).Clear();
        int result = ring.Register(IoUringAbi.RegisterProbe, probe, ProbeOps);
        if (result < 0)
        {
            throw new DeviceBindException($"The kernel refused to list its io_uring opcodes (IORING_REGISTER_PROBE, Linux 5.6+): {Errno.Describe(-result)}.");
        }

        int listed = probe[1];
        RequireOp(probe, listed, IoUringAbi.OpRecv, "IORING_OP_RECV (receive)");
        RequireOp(probe, listed, IoUringAbi.OpAsyncCancel, "IORING_OP_ASYNC_CANCEL (cancelling the receive at close)");
        RequireOp(probe, listed, IoUringAbi.OpSendZc, "IORING_OP_SEND_ZC, the marker of Linux 6.0+ where multishot receive (IORING_RECV_MULTISHOT) exists");
    }

    /// <summary>
    /// Checks that pinning <paramref name="pinnedBytes"/> fits the locked-memory limit, and describes the budget in
    /// words. Processes with CAP_IPC_LOCK are not charged (the kernel skips the accounting for them).
    /// </summary>
    public static string CheckLockedMemory(long pinnedBytes)
    {
        (ulong soft, _) = LinuxSyscalls.GetResourceLimit(RlimitMemlock);
        bool exempt = HasIpcLockCapability();
        string limit = soft == ulong.MaxValue ? "unlimited" : $"{soft / 1024} KiB";
        string budget = $"the pools may pin up to {pinnedBytes / 1024} KiB; RLIMIT_MEMLOCK is {limit}";
        if (exempt)
        {
            return $"{budget}; the process has CAP_IPC_LOCK, so pinned pages are not charged to it.";
        }

        if (soft != ulong.MaxValue && (ulong)pinnedBytes > soft)
        {
            throw new DeviceBindException(
                $"The locked-memory limit is too small: {budget}. Raise RLIMIT_MEMLOCK (ulimit -l, or LimitMEMLOCK in a systemd unit, or --ulimit memlock in a container), give the process CAP_IPC_LOCK, or use fewer slots per queue.");
        }

        return $"{budget}; it fits.";
    }

    private static void RequireOp(byte* probe, int listed, byte op, string what)
    {
        // io_uring_probe is 16 bytes of header, then 8-byte io_uring_probe_op entries: op, resv, flags (u16), resv2.
        bool supported = op < listed && (*(ushort*)(probe + 16 + (op * 8) + 2) & IoUringAbi.ProbeOpSupported) != 0;
        if (!supported)
        {
            throw new DeviceBindException($"The kernel's io_uring does not support {what}.");
        }
    }

    private static bool HasIpcLockCapability()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    ulong caps = Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
                    return (caps & (1UL << CapIpcLock)) != 0;
                }
            }
        }
        catch (IOException)
        {
        }

        return false;
    }
}

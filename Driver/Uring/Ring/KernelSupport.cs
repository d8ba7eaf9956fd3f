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
    /// The registered-buffer slots each of <paramref name="queues"/> queues gets: the <paramref name="askedSlots"/>
    /// asked for, fewer when the process is charged for pinned pages and the locked-memory limit cannot hold them all
    /// beside the queues' rings (<paramref name="ringBytesPerQueue"/> each), never fewer than the ring's
    /// <paramref name="ringSize"/>; with the budget in words.
    /// </summary>
    /// <remarks>
    /// io_uring charges every pinned page, and the memory of its rings, to the user's locked memory against
    /// RLIMIT_MEMLOCK unless the calling thread holds CAP_IPC_LOCK in the initial user namespace (the capabilities a
    /// user namespace hands out do not count). A slot holds at most one pinned page, so queues × (slots × page size +
    /// ring memory) bounds what one bind is charged, and fitting the slots to the limit means one bind alone is never
    /// refused a pin. The ring's pages are the floor: every posted page needs a slot. The limit is per user, shared by
    /// every bind of every process of that user, so the fit is what one bind may pin, not a reservation.
    /// </remarks>
    public static (int Slots, string Report) FitSlotsToLockedMemory(int askedSlots, int queues, int pageSize, int ringSize, long ringBytesPerQueue, double share)
    {
        (ulong soft, _) = LinuxSyscalls.GetResourceLimit(RlimitMemlock);
        return FitSlots(askedSlots, queues, pageSize, ringSize, ringBytesPerQueue, soft, share, charged: !HasIpcLockCapability());
    }

    /// <summary>
    /// The arithmetic of <see cref="FitSlotsToLockedMemory"/> for a given limit (ulong.MaxValue: unlimited) of which
    /// the bind may be charged <paramref name="share"/>.
    /// </summary>
    public static (int Slots, string Report) FitSlots(int askedSlots, int queues, int pageSize, int ringSize, long ringBytesPerQueue, ulong limitBytes, double share, bool charged)
    {
        long perSlot = (long)queues * pageSize;
        long rings = queues * ringBytesPerQueue;
        long asked = askedSlots * perSlot;
        string limit = limitBytes == ulong.MaxValue ? "unlimited" : $"{limitBytes / 1024} KiB";
        if (limitBytes != ulong.MaxValue && share < 1)
        {
            limitBytes = (ulong)(limitBytes * share);
            limit += $", this device's share {limitBytes / 1024} KiB";
        }

        if (!charged)
        {
            return (askedSlots, $"the pools may pin up to {asked / 1024} KiB; RLIMIT_MEMLOCK is {limit}; the process has CAP_IPC_LOCK, so pinned pages are not charged to it.");
        }

        if (limitBytes == ulong.MaxValue || (ulong)(asked + rings) <= limitBytes)
        {
            return (askedSlots, $"the pools may pin up to {asked / 1024} KiB and the rings take {rings / 1024} KiB; RLIMIT_MEMLOCK is {limit}; it fits.");
        }

        long fitting = (long)limitBytes < rings ? 0 : ((long)limitBytes - rings) / perSlot;
        if (fitting < ringSize)
        {
            throw new DeviceBindException(
                $"The locked-memory limit is too small: a ring of {ringSize} pages on each of {queues} queues pins at least {((ringSize * perSlot) + rings) / 1024} KiB with the rings' own memory; RLIMIT_MEMLOCK is {limit}. "
                + "Raise RLIMIT_MEMLOCK (ulimit -l, or LimitMEMLOCK in a systemd unit, or --ulimit memlock in a container), give the process CAP_IPC_LOCK (in the initial user namespace; a user namespace's own does not count), or use fewer queues or a smaller ring.");
        }

        return ((int)fitting, $"the pools may pin up to {fitting * perSlot / 1024} KiB ({fitting} slots per queue of the {askedSlots} asked) and the rings take {rings / 1024} KiB: RLIMIT_MEMLOCK is {limit}, so the slots were fitted to it.");
    }

    /// <summary>Whether <paramref name="uidMap"/> (the text of /proc/self/uid_map) is the initial user namespace's: every id onto itself.</summary>
    public static bool IsInitialUserNamespace(string uidMap)
    {
        string[] lines = uidMap.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 1 && lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["0", "0", "4294967295"];
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

    /// <summary>
    /// Whether io_uring skips charging this thread's pins: CAP_IPC_LOCK in the thread's effective set (credentials are
    /// per thread) and the process in the initial user namespace, where the kernel looks for it.
    /// </summary>
    private static bool HasIpcLockCapability()
    {
        try
        {
            if (!IsInitialUserNamespace(File.ReadAllText("/proc/self/uid_map")))
            {
                return false;
            }

            foreach (string line in File.ReadLines("/proc/thread-self/status"))
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
        catch (UnauthorizedAccessException)
        {
        }

        return false;
    }
}

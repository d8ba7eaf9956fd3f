using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Netmem.TestSupport;

/// <summary>
/// What this process may do for a spec that needs privileges, decided once: run it here (root in the machine's own
/// user namespace), run it in a child process inside a user and network namespace of its own (a normal user where the
/// kernel allows unprivileged user namespaces), or neither, with what is missing in words.
/// </summary>
internal static unsafe partial class Privileges
{
    // linux/capability.h
    private const int CapNetAdmin = 12;
    private const int CapNetRaw = 13;
    private const int CapSysAdmin = 21;
    private const int RlimitMemlock = 8;
    private const long IoUringSetup = 425;
    private const int Eperm = 1;
    private const int Enosys = 38;

    /// <summary>The locked memory the privileged specs pin at most, for a process the kernel charges for it.</summary>
    public const ulong LockedMemoryNeeded = 8UL << 20;

    private static readonly Lazy<(bool Here, string? Missing)> s_verdict = new(Decide);

    /// <summary>Whether privileged specs run in this process, as they are.</summary>
    public static bool RunHere => s_verdict.Value.Here;

    /// <summary>Null when a privileged spec can run (here or in a namespace); otherwise what it lacks, in words.</summary>
    public static string? Missing => s_verdict.Value.Missing;

    /// <summary>Under CI (CI=true) a privileged spec that cannot run fails: nothing is skipped where CI runs.</summary>
    public static bool UnderCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The command that starts a program in a new user (mapped to root), network and mount namespace.</summary>
    public static string[] NamespaceCommand => ["unshare", "--user", "--map-root-user", "--net", "--mount", "--"];

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long entries, void* parameters);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetResourceLimit(int resource, ulong* limits);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private static (bool Here, string? Missing) Decide()
    {
        if (IoUringUnavailable() is { } uring)
        {
            return (false, uring);
        }

        ulong caps = EffectiveCapabilities();
        bool initialUserNamespace = InitialUserNamespace();
        if (initialUserNamespace && Has(caps, CapNetAdmin) && Has(caps, CapNetRaw) && Has(caps, CapSysAdmin))
        {
            return (true, null);
        }

        if (NamespaceUnavailable() is { } userns)
        {
            return (false, $"This spec needs CAP_NET_RAW (packet sockets), CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces, veth pairs): root has them, a normal user only in a user namespace of its own, and {userns}.");
        }

        ulong limit = LockedMemoryLimit();
        if (limit < LockedMemoryNeeded && LockedMemory.Charged)
        {
            return (false, $"This spec pins up to {LockedMemoryNeeded / 1024} KiB of pages and needs that much locked memory: RLIMIT_MEMLOCK is {limit / 1024} KiB (raise it with ulimit -l, or run as root; CAP_IPC_LOCK inside a user namespace does not count).");
        }

        return (false, null);
    }

    private static bool Has(ulong caps, int capability) => (caps & (1UL << capability)) != 0;

    /// <summary>The calling thread's effective capabilities, as a bit set by capability number.</summary>
    internal static ulong EffectiveCapabilities()
    {
        foreach (string line in File.ReadLines("/proc/thread-self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
            {
                return Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
            }
        }

        return 0;
    }

    /// <summary>The initial user namespace maps every user id onto itself; a user namespace maps a few.</summary>
    internal static bool InitialUserNamespace() =>
        File.ReadAllText("/proc/self/uid_map").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is ["0", "0", "4294967295"];

    private static ulong LockedMemoryLimit()
    {
        ulong* limits = stackalloc ulong[2];
        return GetResourceLimit(RlimitMemlock, limits) == 0 ? limits[0] : ulong.MaxValue;
    }

    /// <summary>Sets up a one-entry ring and closes it: the only sure way to know whether this user may use io_uring.</summary>
    private static string? IoUringUnavailable()
    {
        byte* parameters = stackalloc byte[120];
        new Span<byte>(parameters, 120).Clear();
        long fd = Syscall(IoUringSetup, 1, parameters);
        if (fd >= 0)
        {
            Close((int)fd);
            return null;
        }

        int errno = Marshal.GetLastPInvokeError();
        string setting = File.Exists("/proc/sys/kernel/io_uring_disabled") ? File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim() : "absent";
        return errno switch
        {
            Enosys => "This spec needs io_uring, which this kernel does not offer (io_uring_setup: ENOSYS; built without it, or blocked by seccomp).",
            Eperm => $"This spec needs io_uring, which this user may not use (io_uring_setup: EPERM; kernel.io_uring_disabled is {setting}: 0 allows everyone, 1 root and the io_uring group).",
            _ => $"This spec needs io_uring, whose setup failed with errno {errno}.",
        };
    }

    /// <summary>Starts the namespace the specs would run in and brings its lo up: null when that works, else why not.</summary>
    private static string? NamespaceUnavailable()
    {
        var start = new ProcessStartInfo(NamespaceCommand[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in NamespaceCommand[1..].Concat(["ip", "link", "set", "lo", "up"]))
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process process = Process.Start(start)!;
            Task<string> error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(30_000))
            {
                process.Kill(entireProcessTree: true);
                return "starting a user and network namespace (unshare --user --map-root-user --net --mount) did not finish within 30 s";
            }

            return process.ExitCode == 0
                ? null
                : $"this user may not create a user and network namespace (unshare --user --map-root-user --net --mount: {error.Result.Trim()}; unprivileged user namespaces are disabled, e.g. kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0 or an AppArmor restriction)";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"unshare (util-linux) or ip (iproute2) cannot be started: {e.Message}";
        }
    }
}

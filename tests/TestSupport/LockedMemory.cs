using System.Runtime.InteropServices;

namespace Netmem.TestSupport;

/// <summary>
/// The locked memory that specs using io_uring share. The kernel charges pinned pages and io_uring's rings to the
/// user, against one RLIMIT_MEMLOCK for all of that user's processes, unless the thread holds CAP_IPC_LOCK in the
/// machine's own user namespace (root does; a user namespace's root does not). So for a charged user, such specs run
/// one at a time across every test process of that user, each with the whole limit to itself (the device fits its
/// slots to it); as root nothing waits.
/// </summary>
/// <remarks>
/// The turn is an exclusive flock on one file per user in the temporary folder: the kernel releases it when its file
/// descriptor closes, whether the spec ended, failed or its process died, so a turn is never lost. Each turn opens its
/// own descriptor, so two specs of the same process wait for each other as two processes do. The descriptor is not
/// inherited (O_CLOEXEC): a spec's child process does not keep the turn after the spec.
/// </remarks>
internal static partial class LockedMemory
{
    private const int OReadWrite = 2;
    private const int OCreate = 0x40;
    private const int OCloseOnExec = 0x80000;
    private const int LockExclusive = 2;
    private const int CapIpcLock = 14;

    private static readonly Lazy<bool> s_charged = new(() =>
        !(Privileges.InitialUserNamespace() && (Privileges.EffectiveCapabilities() & (1UL << CapIpcLock)) != 0));

    /// <summary>How long a spec waits for its turn before it fails saying so.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    /// <summary>Whether this process is charged for the pages it pins (no CAP_IPC_LOCK in the machine's user namespace).</summary>
    public static bool Charged => s_charged.Value;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();

    /// <summary>Waits for this user's turn to pin pages; disposing the result ends the turn.</summary>
    public static async Task<IDisposable> TakeTurnAsync()
    {
        string path = Path.Combine(Path.GetTempPath(), $"netmem-tests-pinned-pages-{GetUid()}.lock");
        int fd = Open(path, OReadWrite | OCreate | OCloseOnExec, Convert.ToInt32("600", 8));
        if (fd < 0)
        {
            throw new PrivilegedSpecException($"Opening {path}, where the specs that pin pages take turns, failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        // flock blocks until the turn comes; it runs on a thread of its own so no test thread waits.
        Task<int> locked = Task.Factory.StartNew(() => Flock(fd, LockExclusive) == 0 ? 0 : Marshal.GetLastPInvokeError(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (await Task.WhenAny(locked, Task.Delay(Patience)) != locked)
        {
            // Given up: the turn, if it ever comes, is handed back at once.
            _ = locked.ContinueWith(_ => Close(fd), TaskScheduler.Default);
            throw new PrivilegedSpecException($"Waited {Patience.TotalMinutes} minutes for the other specs that pin pages (this user's locked memory is theirs while they run; see {path}).");
        }

        if (await locked is int errno and not 0)
        {
            Close(fd);
            throw new PrivilegedSpecException($"Taking the turn to pin pages ({path}) failed: errno {errno}.");
        }

        return new Turn(fd);
    }

    private sealed class Turn(int fd) : IDisposable
    {
        private int _fd = fd;

        public void Dispose()
        {
            int fd = Interlocked.Exchange(ref _fd, -1);
            if (fd >= 0)
            {
                Close(fd);
            }
        }
    }
}

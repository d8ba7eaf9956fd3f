using Microsoft.Win32.SafeHandles;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Traffic;

/// <summary>
/// Runs code on a dedicated thread inside a network namespace that is not the machine's own, so real traffic (a veth
/// pair between two such namespaces) never reaches a real network.
/// </summary>
/// <remarks>
/// Linux namespaces are per thread: setns moves only the calling thread, and sockets stay in the namespace they were
/// created in. So the code runs on a fresh thread that enters the namespace, checks that it is not the initial one
/// (init's; or, where init cannot be seen, not the process's own), and ends; the caller's thread never moves.
/// </remarks>
public static class PrivateNetworkNamespace
{
    private const string InitialNamespace = "/proc/1/ns/net";
    private const string ProcessNamespace = "/proc/self/ns/net";

    /// <summary>
    /// Runs <paramref name="action"/> inside the namespace at <paramref name="namespacePath"/> (a bind mount such as
    /// /var/run/netns/NAME, or /proc/PID/ns/net) and returns its result; exceptions come back to the caller.
    /// </summary>
    public static T Run<T>(string namespacePath, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(namespacePath);
        ArgumentNullException.ThrowIfNull(action);
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(namespacePath);
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns " + Path.GetFileName(namespacePath),
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new AggregateException($"Running inside the network namespace {namespacePath} failed.", failure);
        }

        return result!;
    }

    private static void Enter(string namespacePath)
    {
        using SafeFileHandle handle = File.OpenHandle(namespacePath, FileMode.Open, FileAccess.Read);
        int result = LinuxSyscalls.EnterNetworkNamespace((int)handle.DangerousGetHandle());
        if (result < 0)
        {
            throw new InvalidOperationException($"Entering the network namespace {namespacePath} failed: {Errno.Describe(-result)}.");
        }

        string? here = new FileInfo("/proc/thread-self/ns/net").LinkTarget;
        string? machine = MachineNamespace();
        if (here is null || here == machine)
        {
            throw new InvalidOperationException($"{namespacePath} is the machine's own network namespace; traffic would leave the sandbox.");
        }
    }

    /// <summary>
    /// The machine's network namespace (init's), or, when this process may not look at init (in a user namespace of
    /// its own, pid 1 belongs to someone else), the namespace the process itself runs in: the caller's threads never
    /// move, so a namespace that differs from it was entered on purpose, and one equal to it could be the machine's.
    /// </summary>
    private static string? MachineNamespace()
    {
        try
        {
            return new FileInfo(InitialNamespace).LinkTarget;
        }
        catch (UnauthorizedAccessException)
        {
            return new FileInfo(ProcessNamespace).LinkTarget;
        }
        catch (IOException)
        {
            return new FileInfo(ProcessNamespace).LinkTarget;
        }
    }
}

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
/// (init's), and ends; the caller's thread never moves.
/// </remarks>
public static class PrivateNetworkNamespace
{
    private const string InitialNamespace = "/proc/1/ns/net";

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

        string? here = new FileInfo($"/proc/thread-self/ns/net").LinkTarget;
        string? initial = new FileInfo(InitialNamespace).LinkTarget;
        if (here is null || here == initial)
        {
            throw new InvalidOperationException($"{namespacePath} is the machine's own network namespace; traffic would leave the sandbox.");
        }
    }
}

using System.Diagnostics;

namespace Netmem.UringBench.Orchestration;

/// <summary>
/// A private network namespace with only lo up, for one benchmark run: every receiver and the sender run inside it,
/// so a packet socket on lo sees only the benchmark's frames and nothing reaches a real network.
/// </summary>
internal sealed class BenchNamespace : IDisposable
{
    public BenchNamespace()
    {
        Name = $"uringbench{Environment.ProcessId}";
        Ip($"netns add {Name}");
        Ip($"-netns {Name} link set lo up");
    }

    public string Name { get; }

    public string Path => $"/var/run/netns/{Name}";

    public void Dispose()
    {
        using var process = Process.Start(new ProcessStartInfo("ip", $"netns del {Name}") { RedirectStandardError = true })!;
        process.WaitForExit(10_000);
    }

    private static void Ip(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(10_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {arguments} failed: {error.Trim()} (the benchmark needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN, to make its namespace).");
        }
    }
}

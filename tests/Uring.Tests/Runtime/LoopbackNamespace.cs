using System.Diagnostics;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// A private network namespace with only its own lo up, created for one scenario and deleted with it: traffic sent
/// to 127.0.0.1 inside it never meets anyone else's loopback traffic (other test runs share the machine's lo).
/// </summary>
internal sealed class LoopbackNamespace : IDisposable
{
    private static int s_count;

    public LoopbackNamespace()
    {
        Name = $"urt{Environment.ProcessId % 100000}x{Interlocked.Increment(ref s_count)}";
        Ip($"netns add {Name}");
        try
        {
            Ip($"-netns {Name} link set lo up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    public string Path => $"/var/run/netns/{Name}";

    public void Dispose() => Run($"netns del {Name}");

    private static void Ip(string arguments)
    {
        (int code, string error) = Run(arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {arguments} failed ({code}): {error}");
        }
    }

    private static (int Code, string Error) Run(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            return (-1, "timed out");
        }

        return (process.ExitCode, error.Trim());
    }
}

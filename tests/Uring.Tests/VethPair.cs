using System.Diagnostics;

namespace Netmem.Uring.Tests;

/// <summary>
/// Two private network namespaces joined by a veth pair, with addresses and permanent neighbour entries (no ARP),
/// created for one spec and removed with it. Nothing touches the machine's own namespace.
/// </summary>
internal sealed class VethPair : IDisposable
{
    private static int s_count;

    public VethPair()
    {
        int n = Interlocked.Increment(ref s_count);
        string tag = $"{Environment.ProcessId % 100000}x{n}";
        ReceiverNamespace = $"urx{tag}";
        SenderNamespace = $"utx{tag}";
        ReceiverInterface = $"vu{tag}r";
        SenderInterface = $"vu{tag}s";
        int subnet = (Environment.ProcessId + n) % 250;
        ReceiverAddress = $"10.213.{subnet}.1";
        SenderAddress = $"10.213.{subnet}.2";
        ReceiverMac = $"02:00:00:{subnet:x2}:00:01";
        SenderMac = $"02:00:00:{subnet:x2}:00:02";
        try
        {
            Ip($"netns add {ReceiverNamespace}");
            Ip($"netns add {SenderNamespace}");
            Ip($"link add {ReceiverInterface} netns {ReceiverNamespace} address {ReceiverMac} type veth peer name {SenderInterface} netns {SenderNamespace} address {SenderMac}");
            Ip($"-netns {ReceiverNamespace} addr add {ReceiverAddress}/24 dev {ReceiverInterface}");
            Ip($"-netns {SenderNamespace} addr add {SenderAddress}/24 dev {SenderInterface}");
            Ip($"-netns {ReceiverNamespace} link set {ReceiverInterface} up");
            Ip($"-netns {SenderNamespace} link set {SenderInterface} up");
            Ip($"-netns {SenderNamespace} neigh add {ReceiverAddress} lladdr {ReceiverMac} dev {SenderInterface} nud permanent");
            Ip($"-netns {ReceiverNamespace} neigh add {SenderAddress} lladdr {SenderMac} dev {ReceiverInterface} nud permanent");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string ReceiverNamespace { get; }

    public string SenderNamespace { get; }

    public string ReceiverInterface { get; }

    public string SenderInterface { get; }

    public string ReceiverAddress { get; }

    public string SenderAddress { get; }

    public string ReceiverMac { get; }

    public string SenderMac { get; }

    public string ReceiverNamespacePath => $"/var/run/netns/{ReceiverNamespace}";

    public string SenderNamespacePath => $"/var/run/netns/{SenderNamespace}";

    public void Dispose()
    {
        // Deleting a namespace deletes the veth end inside it, and with it the pair.
        TryIp($"netns del {ReceiverNamespace}");
        TryIp($"netns del {SenderNamespace}");
    }

    private static void Ip(string arguments)
    {
        (int code, string error) = Run(arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {arguments} failed ({code}): {error}");
        }
    }

    private static void TryIp(string arguments) => Run(arguments);

    private static (int Code, string Error) Run(string arguments)
    {
        var start = new ProcessStartInfo("ip", arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
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

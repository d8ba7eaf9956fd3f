using System.Net;
using System.Net.Sockets;
using Netmem.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Uring.Tests;

/// <summary>
/// The way privileged specs run as a normal user, tested on planted specs: in a child process that is root over a
/// network of its own with lo up, whose output comes back, and whose failure is reported as one.
/// </summary>
public sealed class NamespacedSpecSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [PrivilegedFact]
    public async Task A_spec_run_in_a_namespace_is_root_over_a_network_of_its_own_with_lo_up_and_its_output_comes_back()
    {
        string parentNetwork = new FileInfo("/proc/self/ns/net").LinkTarget!;

        NamespacedSpecResult result = await NamespacedSpec.RunAsync(typeof(PlantedSpecs), nameof(PlantedSpecs.Describes_where_it_runs), Patience);

        Assert.True(result.Passed, $"exit {result.ExitCode}: {result.Error}");
        Assert.Contains("uid 0", result.Output);
        Assert.Contains("CAP_NET_RAW CAP_NET_ADMIN CAP_SYS_ADMIN", result.Output);
        Assert.Contains("lo UP", result.Output);
        Assert.Contains("network net:[", result.Output);
        Assert.DoesNotContain($"network {parentNetwork}", result.Output);
        Assert.Equal(string.Empty, result.Error);
    }

    [PrivilegedFact]
    public async Task A_spec_that_fails_in_its_namespace_is_reported_failed_with_its_message()
    {
        NamespacedSpecResult result = await NamespacedSpec.RunAsync(typeof(PlantedSpecs), nameof(PlantedSpecs.Fails), Patience);

        Assert.False(result.Passed);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("a planted failure", result.Error);
        Assert.Contains("written before failing", result.Output);
    }

    [PrivilegedFact]
    public async Task A_spec_that_outlives_its_patience_is_killed_and_reported_so()
    {
        NamespacedSpecResult result = await NamespacedSpec.RunAsync(typeof(PlantedSpecs), nameof(PlantedSpecs.Hangs), TimeSpan.FromSeconds(5));

        Assert.True(result.TimedOut);
        Assert.False(result.Passed);
    }
}

/// <summary>Specs only <see cref="NamespacedSpecSpecs"/> runs (not facts): one that describes its namespace, one that fails, one that hangs.</summary>
public sealed class PlantedSpecs(ITestOutputHelper output)
{
    public void Describes_where_it_runs()
    {
        ulong caps = 0;
        foreach (string line in File.ReadLines("/proc/thread-self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
            {
                caps = Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
            }
        }

        output.WriteLine($"uid {Uid()}");
        output.WriteLine(string.Join(' ', new[] { (13, "CAP_NET_RAW"), (12, "CAP_NET_ADMIN"), (21, "CAP_SYS_ADMIN") }.Where(c => (caps & (1UL << c.Item1)) != 0).Select(c => c.Item2)));
        output.WriteLine($"lo {(LoopbackCarriesADatagram() ? "UP" : "DOWN")}");
        output.WriteLine($"network {new FileInfo("/proc/self/ns/net").LinkTarget}");
    }

    public void Fails()
    {
        output.WriteLine("written before failing");
        Assert.Fail("a planted failure");
    }

    public void Hangs() => Thread.Sleep(Timeout.Infinite);

    /// <summary>A datagram to itself on 127.0.0.1 arrives only when lo is up (sysfs would show the machine's lo).</summary>
    private static bool LoopbackCarriesADatagram()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveTimeout = 5000;
        try
        {
            socket.SendTo([1, 2, 3], socket.LocalEndPoint!);
            return socket.Receive(new byte[16]) == 3;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Uid()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return line["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries)[0];
            }
        }

        return "?";
    }
}

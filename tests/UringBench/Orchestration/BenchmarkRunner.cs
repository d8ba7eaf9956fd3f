using System.Diagnostics;
using System.Globalization;
using Netmem.Uring.Traffic;
using Netmem.UringBench.Sender;

namespace Netmem.UringBench.Orchestration;

/// <summary>
/// Runs every receiver against the same sender, one at a time, each in its own child process inside the run's
/// namespace; for each offered rate the receivers take turns, so drift in the machine's load hits all of them alike.
/// </summary>
internal sealed class BenchmarkRunner(BenchNamespace ns, int flows, int payloadBytes, long warmUpCount, double warmUpRate, string? nativeLibrary)
{
    public const int Port = 5000;
    public const int FirstSourcePort = 40_000;

    public static readonly string[] Receivers = ["receive-from", "receive-from-async", "bare-io_uring", "c-io_uring", "device-udp", "device-packet"];

    public RunResult Run(string receiver, double offeredRate, long count)
    {
        using Process child = StartChild(receiver);
        try
        {
            ExpectLine(child, "READY");
            var sender = new MmsgSender(Port, FirstSourcePort, flows, payloadBytes);

            // Warm-up: steady state is what is compared, not JIT tiering or first-time pool growth. Tiered
            // compilation promotes hot methods after a short delay, hence the pause before GO.
            PrivateNetworkNamespace.Run(ns.Path, () => sender.Send(warmUpCount, warmUpRate, TimeSpan.FromSeconds(10)));
            Thread.Sleep(500);
            child.StandardInput.WriteLine("GO");
            child.StandardInput.Flush();
            (long sent, TimeSpan elapsed) = PrivateNetworkNamespace.Run(ns.Path, () => sender.Send(count, offeredRate, TimeSpan.FromSeconds(30)));
            child.StandardInput.WriteLine("STOP");
            child.StandardInput.Flush();
            string result = ExpectLine(child, "RESULT");
            string[] parts = result.Split(' ', 10);
            if (!child.WaitForExit(20_000))
            {
                child.Kill(entireProcessTree: true);
            }

            return new RunResult(
                receiver,
                offeredRate,
                sent / elapsed.TotalSeconds,
                sent,
                long.Parse(parts[1], CultureInfo.InvariantCulture),
                long.Parse(parts[2], CultureInfo.InvariantCulture),
                long.Parse(parts[3], CultureInfo.InvariantCulture),
                double.Parse(parts[4], CultureInfo.InvariantCulture),
                parts.Length > 9 ? parts[9] : string.Empty,
                new LatencyMicroseconds(Number(parts[5]), Number(parts[6]), Number(parts[7]), Number(parts[8])));
        }
        catch
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }

            throw;
        }
    }

    private Process StartChild(string receiver)
    {
        // The child is this program again, in receiver mode, entered into the namespace by `ip netns exec`.
        string self = Environment.ProcessPath!;
        string dll = typeof(BenchmarkRunner).Assembly.Location;
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "netns", "exec", ns.Name, self })
        {
            info.ArgumentList.Add(arg);
        }

        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(dll);
        }

        if (nativeLibrary is not null)
        {
            info.ArgumentList.Add("--native");
            info.ArgumentList.Add(nativeLibrary);
        }

        foreach (string arg in new[] { "--receiver", receiver, "--port", Port.ToString(CultureInfo.InvariantCulture), "--first-source-port", FirstSourcePort.ToString(CultureInfo.InvariantCulture), "--flows", flows.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("The receiver process did not start.");
    }

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string ExpectLine(Process child, string word)
    {
        Task<string?> read = child.StandardOutput.ReadLineAsync();
        while (true)
        {
            if (!read.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException($"The receiver did not say {word} within 30 s.");
            }

            string line = read.Result ?? throw new InvalidOperationException($"The receiver exited before saying {word} (exit code {(child.HasExited ? child.ExitCode : -1)}).");
            if (line.StartsWith(word, StringComparison.Ordinal))
            {
                return line;
            }

            Console.WriteLine($"  receiver: {line}");
            read = child.StandardOutput.ReadLineAsync();
        }
    }
}

using System.Net;
using System.Text.RegularExpressions;
using Netmem.Chaos;
using Netmem.TestSupport;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>The <c>receive</c> command: its errors in words, and a real run on lo stopped like Ctrl-C stops it.</summary>
[Collection(ChaosRunCollection.Name)]
public sealed partial class ReceiveCommandSpecs
{
    [Theory]
    [InlineData(new string[0], "error: receive needs a source: --interface NAME (such as lo) or --udp ADDRESS:PORT (such as 127.0.0.1:9000).")]
    [InlineData(new[] { "--interface", "lo", "--udp", "127.0.0.1:9000" }, "error: receive takes one source: --interface or --udp, not both.")]
    [InlineData(new[] { "--udp", "localhost" }, "error: --udp 'localhost' is not valid: expected an IPv4 address and a port, such as 127.0.0.1:9000.")]
    [InlineData(new[] { "--udp", "127.0.0.1" }, "error: --udp '127.0.0.1' is not valid: expected an IPv4 address and a port, such as 127.0.0.1:9000.")]
    [InlineData(new[] { "--udp", "[::1]:9000" }, "error: --udp '[::1]:9000' is not valid: expected an IPv4 address and a port, such as 127.0.0.1:9000.")]
    [InlineData(new[] { "--udp", "127.0.0.1:0" }, "error: --udp '127.0.0.1:0' is not valid: expected an IPv4 address and a port, such as 127.0.0.1:9000.")]
    [InlineData(new[] { "--interface", "no-such-if0" }, "error: --interface 'no-such-if0': there is no such network interface here; expected the name of a network interface, such as lo.")]
    [InlineData(new[] { "--interface", "a/b" }, "error: --interface 'a/b' is not valid: expected the name of a network interface, such as lo.")]
    [InlineData(new[] { "--interface" }, "error: --interface needs a value: the name of a network interface, such as lo.")]
    [InlineData(new[] { "--interface", "lo", "--queues", "0" }, "error: --queues '0' is not valid: expected a whole number from 1 to 64.")]
    [InlineData(new[] { "--interface", "lo", "--plain", "maybe" }, "error: --plain 'maybe' is not valid: expected true or false.")]
    public async Task A_bad_command_line_says_what_is_wrong_in_words_with_the_help_hint_and_exits_2(string[] args, string expected)
    {
        (int exit, string output, string error) = await InvokeAsync(["receive", .. args], new ChaosStop());

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Equal([expected, ChaosCommand.HelpHint], Lines(error));
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task Help_for_receive_lists_its_options_without_asking_for_a_source()
    {
        (int exit, string output, string error) = await InvokeAsync(["receive", "--help"], new ChaosStop());

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        Assert.All(["--interface <name>", "--udp <address:port>", "--queues <count>", "--plain <true|false>"], option => Assert.Contains(option, output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_chaos_option_is_not_an_option_of_receive()
    {
        (int exit, _, string error) = await InvokeAsync(["receive", "--interface", "lo", "--seed", "3"], new ChaosStop());

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Contains("--seed", error, StringComparison.Ordinal);
        Assert.EndsWith(ChaosCommand.HelpHint, error.TrimEnd(), StringComparison.Ordinal);
    }

    [PrivilegedFact]
    public async Task A_run_on_lo_receives_a_burst_and_after_the_stop_unbinds_cleanly_and_exits_0()
    {
        const int burst = 2_000;
        using var stop = new ChaosStop();
        var output = new SynchronizedWriter();
        Task<(int Exit, string Output, string Error)> run = InvokeAsync(["receive", "--interface", "lo", "--plain"], stop, output);
        await WaitForAsync(() => output.ToString().Contains(" bound ", StringComparison.Ordinal), TimeSpan.FromSeconds(20));

        using var sink = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        UdpTrafficReport sent = await new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = (IPEndPoint)sink.LocalEndPoint!,
            Count = burst,
            PacketsPerSecond = 20_000,
        }).RunAsync();
        await WaitForAsync(() => KernelPacketsOf(output.ToString()) >= burst, TimeSpan.FromSeconds(10));
        stop.Request(ChaosStopReason.Interrupt);
        (int exit, string text, string error) = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(burst, sent.Sent);
        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        Assert.Contains("CLEAN: unbound with every page reclaimed or unmapped, and no kernel error.", text, StringComparison.Ordinal);
        Assert.True(long.Parse(ReportRow().Match(text).Groups[1].Value.Replace(",", string.Empty, StringComparison.Ordinal)) >= burst);
        Assert.Matches(@"kernel errors\s+│\s+0 │", text);
        Assert.Matches(@"mappings leaked\s+│\s+0 │", text);
    }

    [LockedMemoryFact]
    public async Task A_run_on_a_udp_port_delivers_every_datagram_sent_to_it_to_the_consumer_and_drops_none()
    {
        const int datagrams = 300;
        int port = FreeUdpPort();
        using var stop = new ChaosStop();
        var output = new SynchronizedWriter();
        Task<(int Exit, string Output, string Error)> run = InvokeAsync(["receive", "--udp", $"127.0.0.1:{port}", "--queues", "2", "--plain"], stop, output);
        await WaitForAsync(() => output.ToString().Contains(" bound ", StringComparison.Ordinal), TimeSpan.FromSeconds(20));

        using (var sender = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp))
        {
            for (int i = 0; i < datagrams; i++)
            {
                sender.SendTo(new byte[1 + (i % 1400)], new IPEndPoint(IPAddress.Loopback, port));
            }
        }

        await WaitForAsync(() => DeliveredOf(output.ToString()) >= datagrams, TimeSpan.FromSeconds(20));
        stop.Request(ChaosStopReason.Interrupt);
        (_, string text, string error) = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(string.Empty, error);
        Assert.Contains($"receive from UDP 127.0.0.1:{port}", text, StringComparison.Ordinal);
        Match last = ProgressLine().Matches(text)[^1];
        Assert.Equal("unbound", last.Groups["state"].Value);
        Assert.Equal((datagrams, datagrams, 0L), (Number(last, "packets"), Number(last, "delivered"), Number(last, "dropped")));
        Assert.Matches(@"kernel errors\s+│\s+0 │", text);
        Assert.Matches(@"mappings leaked\s+│\s+0 │", text);
    }

    /// <summary>A UDP port on loopback nobody is bound to right now (the kernel's pick, let go at once).</summary>
    private static int FreeUdpPort()
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static long DeliveredOf(string output)
    {
        MatchCollection lines = ProgressLine().Matches(output);
        return lines.Count == 0 ? 0 : Number(lines[^1], "delivered");
    }

    private static long Number(Match line, string group) => long.Parse(line.Groups[group].Value.Replace(",", string.Empty, StringComparison.Ordinal));

    private static long KernelPacketsOf(string output)
    {
        MatchCollection lines = ProgressPackets().Matches(output);
        return lines.Count == 0 ? 0 : long.Parse(lines[^1].Groups[1].Value.Replace(",", string.Empty, StringComparison.Ordinal));
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "timed out waiting");
            await Task.Delay(50);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> InvokeAsync(string[] args, ChaosStop stop, TextWriter? output = null)
    {
        output ??= new StringWriter();
        var error = new StringWriter();
        int exit = await ChaosCommand.InvokeAsync(args, output, error, stop);
        string errorText = error.ToString();
        Assert.DoesNotContain("System.", errorText, StringComparison.Ordinal);
        return (exit, output.ToString()!, errorText);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"packets\s+([\d,]+)\s+delivered")]
    private static partial Regex ProgressPackets();

    [GeneratedRegex(@"\]\s+(?<state>\S+)\s+packets/s\s+[\d,]+\s+packets\s+(?<packets>[\d,]+)\s+delivered\s+(?<delivered>[\d,]+)\s+dropped\s+(?<dropped>[\d,]+)")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"packets the kernel wrote\s+│\s+([\d,]+) │")]
    private static partial Regex ReportRow();

    /// <summary>A string writer the run writes to while the spec reads it.</summary>
    private sealed class SynchronizedWriter : StringWriter
    {
        private readonly object _gate = new();

        public override void Write(char value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return base.ToString();
            }
        }
    }
}

using Netmem.Actors.Protocol;
using Netmem.Uring;
using Spectre.Console;

namespace Netmem.Chaos;

/// <summary>
/// Runs <c>receive</c> on a console: what is bound, a live display (packets/s, packets, inflight pages, drops,
/// unbinds) on a terminal or a plain line a second when output is redirected, then the unbind report.
/// </summary>
internal static class ReceiveConsole
{
    private static readonly TimeSpan PlainLineInterval = TimeSpan.FromSeconds(1);

    public static async Task<ReceiveResult> RunAsync(ReceiveSettings settings, TextWriter output, CancellationToken stop)
    {
        bool live = !settings.Plain && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Interactive = live ? InteractionSupport.Yes : InteractionSupport.No,
            Ansi = live ? AnsiSupport.Detect : AnsiSupport.No,
        });
        if (!live)
        {
            console.Profile.Width = 120;
        }

        console.MarkupLine($"[bold]receive[/] from {Markup.Escape(Describe(settings.Source))} · {settings.Queues} RX queue(s) · Ctrl-C stops, unbinds and reports");
        ReceiveResult result;
        if (live)
        {
            var latest = new Latest();
            result = null!;
            await console.Live(Table(null)).AutoClear(false).StartAsync(async context =>
            {
                Task<ReceiveResult> run = ReceiveRun.RunAsync(settings, latest, stop);
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
                    context.UpdateTarget(Table(latest.Value));
                }

                result = await run.ConfigureAwait(false);
                context.UpdateTarget(Table(result.Last));
            }).ConfigureAwait(false);
        }
        else
        {
            // A line a second, with the rate over that second (the readings' own rate covers only their last interval).
            long lastLine = 0;
            (long Packets, TimeSpan At) lastPrinted = (0, TimeSpan.Zero);
            result = await ReceiveRun.RunAsync(settings, new Lines(p =>
            {
                long now = Environment.TickCount64;
                if (now - lastLine >= PlainLineInterval.TotalMilliseconds || p.State != "bound")
                {
                    lastLine = now;
                    double rate = (p.KernelPackets - lastPrinted.Packets) / Math.Max(1e-3, (p.Elapsed - lastPrinted.At).TotalSeconds);
                    lastPrinted = (p.KernelPackets, p.Elapsed);
                    output.WriteLine(Line(p with { PacketsPerSecond = p.State == "bound" ? rate : 0 }));
                }
            }), stop).ConfigureAwait(false);
        }

        WriteReport(console, result);
        return result;
    }

    private static string Describe(UringSource source) => source switch
    {
        PacketSource packet => $"interface {packet.InterfaceName} (AF_PACKET)",
        UdpSource udp => $"UDP {udp.Endpoint}",
        _ => source.ToString(),
    };

    private static string Line(ReceiveProgress p) =>
        $"[{p.Elapsed.TotalSeconds,6:F1} s] {p.State,-9} packets/s {p.PacketsPerSecond,9:N0}  packets {p.KernelPackets,10:N0}  delivered {p.Delivered,10:N0}  "
        + $"dropped {p.Dropped.Values.Sum(),8:N0}  inflight {p.Inflight,6:N0}  unbinds {p.Unbinds}";

    private static Table Table(ReceiveProgress? p)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]receive[/]").HideHeaders();
        table.AddColumn("what");
        table.AddColumn(new TableColumn("now").RightAligned());
        table.AddRow("elapsed", p is null ? "0.0 s" : $"{p.Elapsed.TotalSeconds:F1} s");
        table.AddRow("device", p?.State ?? "binding");
        table.AddRow("packets/s", p?.PacketsPerSecond.ToString("N0") ?? "-");
        table.AddRow("packets the kernel wrote", p?.KernelPackets.ToString("N0") ?? "-");
        table.AddRow("delivered to the consumer", p?.Delivered.ToString("N0") ?? "-");
        foreach ((string reason, long count) in p?.Dropped ?? new Dictionary<string, long>())
        {
            table.AddRow(Markup.Escape($"dropped: {reason}"), count.ToString("N0"));
        }

        table.AddRow("inflight pages", p?.Inflight.ToString("N0") ?? "-");
        table.AddRow("unbinds", p?.Unbinds.ToString("N0") ?? "-");
        return table;
    }

    private static void WriteReport(IAnsiConsole console, ReceiveResult result)
    {
        if (result.BindError is { } error)
        {
            console.MarkupLine($"[red bold]FAIL[/]: {Markup.Escape(result.Device)} could not be bound: {Markup.Escape(error)}");
            return;
        }

        UnbindReport report = result.Report!;
        UringCounters counters = result.Counters;
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]unbind report[/]");
        table.AddColumn("what");
        table.AddColumn(new TableColumn("count").RightAligned());
        table.AddRow("device", Markup.Escape($"{report.Device} (bind {report.Generation})"));
        table.AddRow("unbind took", $"{report.Duration.TotalMilliseconds:N0} ms");
        table.AddRow("pages inflight at unbind", report.InflightAtUnbind.ToString("N0"));
        table.AddRow("pages the driver took back from the rings", report.RingPagesReturned.ToString("N0"));
        table.AddRow("pages unmapped by destroy", report.UnmappedByDestroy.ToString("N0"));
        table.AddRow("pages revoked with the domain", report.RevokedWithDomain.ToString("N0"));
        table.AddRow("pages still held (late returns)", report.StillHeld.ToString("N0"));
        table.AddRow("mappings leaked", Count(report.LeakedMappings));
        foreach (var phase in report.Phases)
        {
            table.AddRow(Markup.Escape($"phase: {phase.Phase}"), Markup.Escape(phase.Outcome.ToString()));
        }

        table.AddRow("packets the kernel wrote", counters.FramesReceived.ToString("N0"));
        table.AddRow("maps / unmaps (kernel pins / unpins)", $"{counters.Maps:N0} / {counters.Unmaps:N0}");
        table.AddRow("kernel errors", Count(counters.KernelErrors));
        table.AddRow("device misuse refused", Count(counters.MisuseViolations));
        console.Write(table);
        console.MarkupLine(result.Clean
            ? "[green bold]CLEAN[/]: unbound with every page reclaimed or unmapped, and no kernel error."
            : "[red bold]NOT CLEAN[/]: see the phases, leaks and kernel errors above.");
    }

    private static string Count(long count) => count == 0 ? "[green]0[/]" : $"[red bold]{count:N0}[/]";

    private sealed class Latest : IProgress<ReceiveProgress>
    {
        private ReceiveProgress? _value;

        public ReceiveProgress? Value => Volatile.Read(ref _value);

        public void Report(ReceiveProgress value) => Volatile.Write(ref _value, value);
    }

    private sealed class Lines(Action<ReceiveProgress> report) : IProgress<ReceiveProgress>
    {
        public void Report(ReceiveProgress value) => report(value);
    }
}

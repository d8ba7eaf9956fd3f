using Spectre.Console;

namespace Netmem.Chaos;

/// <summary>
/// Runs a chaos run on a console: the seed first, then a live display (elapsed, packets/s, inflight, unbinds,
/// faults, violations) on a terminal or a plain progress line each second when output is redirected, then the
/// summary table.
/// </summary>
internal static class ChaosConsole
{
    private static readonly TimeSpan PlainLineInterval = TimeSpan.FromSeconds(1);

    public static async Task<ChaosReport> RunAsync(ChaosSettings settings, TextWriter output, bool plain, CancellationToken cancellationToken)
    {
        bool live = !plain && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
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

        console.MarkupLine($"[bold]chaos run[/] seed [yellow]{settings.Seed}[/] · {(settings.Device == ChaosDeviceKind.Uring ? "io_uring on lo" : "simulated")} · {settings.Duration.TotalSeconds:0.###} s · "
            + $"{settings.Devices} devices × {settings.QueuesPerDevice} RX queues · {settings.Consumers} consumers · "
            + $"fault rate {settings.FaultRate} · faults: {(settings.EnabledFaults.Count == 0 ? "none" : string.Join(", ", settings.EnabledFaults.Order()))}");
        console.MarkupLine($"[grey]replay with: dotnet run -c Release --project Actors/Chaos -- chaos --seed {settings.Seed}{(settings.Device == ChaosDeviceKind.Uring ? " --device uring" : string.Empty)}[/]");

        ChaosReport report = live
            ? await RunLiveAsync(console, settings, cancellationToken).ConfigureAwait(false)
            : await RunPlainAsync(output, settings, cancellationToken).ConfigureAwait(false);
        console.Write(ChaosReportTable.Render(report));
        (string label, string detail) = Verdict(report);
        string colour = report.Verdict switch
        {
            ChaosVerdict.Passed => "green",
            ChaosVerdict.Cancelled => "yellow",
            _ => "red",
        };
        console.MarkupLine($"[{colour} bold]{label}[/]: {Markup.Escape(detail)}");
        return report;
    }

    /// <summary>The last line of a run: its verdict (PASS, FAIL, CANCELLED) and what it means in words.</summary>
    public static (string Label, string Detail) Verdict(ChaosReport report) => report.Verdict switch
    {
        ChaosVerdict.Passed => ("PASS", "no violations."),
        ChaosVerdict.Violations => ("FAIL", $"{report.TotalViolations} violation(s)."),
        ChaosVerdict.NothingExercised => ("FAIL", $"nothing was exercised: {string.Join("; ", report.NotExercised)}. A run that tests nothing cannot pass."),
        _ => ("CANCELLED", $"stopped after {report.DurationSeconds:F1} s of traffic; shutdown, final unbind and audits ran: "
            + $"{report.TotalViolations} violation(s). Not a pass."),
    };

    private static async Task<ChaosReport> RunLiveAsync(IAnsiConsole console, ChaosSettings settings, CancellationToken cancellationToken)
    {
        var latest = new LatestProgress();
        Table table = ProgressTable(null);
        ChaosReport? report = null;
        await console.Live(table).AutoClear(false).StartAsync(async context =>
        {
            Task<ChaosReport> run = ChaosRunner.RunAsync(settings, progress: latest, cancellationToken: cancellationToken);
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
                context.UpdateTarget(ProgressTable(latest.Value));
            }

            report = await run.ConfigureAwait(false);
        }).ConfigureAwait(false);
        return report!;
    }

    private static async Task<ChaosReport> RunPlainAsync(TextWriter output, ChaosSettings settings, CancellationToken cancellationToken)
    {
        long lastLine = 0;
        var progress = new SynchronousProgress(p =>
        {
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref lastLine) >= PlainLineInterval.TotalMilliseconds)
            {
                Interlocked.Exchange(ref lastLine, now);
                output.WriteLine(PlainLine(p));
            }
        });
        return await ChaosRunner.RunAsync(settings, progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string PlainLine(ChaosProgress p) =>
        $"[{p.Elapsed.TotalSeconds,6:F1} s] {p.Phase,-13} packets/s {p.PacketsPerSecond,9:N0}  received {p.Received,10:N0}  inflight {p.Inflight,6:N0}  "
        + $"unbinds {p.Unbinds,3}  faults {p.FaultsInjected,5:N0}  violations {p.Violations}";

    private static Table ProgressTable(ChaosProgress? p)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]chaos run[/]").HideHeaders();
        table.AddColumn("what");
        table.AddColumn(new TableColumn("now").RightAligned());
        table.AddRow("elapsed", p is null ? "0.0 s" : $"{p.Elapsed.TotalSeconds:F1} of {p.Duration.TotalSeconds:0.#} s");
        table.AddRow("phase", p?.Phase ?? "starting");
        table.AddRow("packets/s", p?.PacketsPerSecond.ToString("N0") ?? "-");
        table.AddRow("received", p?.Received.ToString("N0") ?? "-");
        table.AddRow("inflight pages", p?.Inflight.ToString("N0") ?? "-");
        table.AddRow("unbinds", p?.Unbinds.ToString("N0") ?? "-");
        table.AddRow("faults injected", p?.FaultsInjected.ToString("N0") ?? "-");
        table.AddRow("violations", p is null ? "-" : p.Violations == 0 ? "[green]0[/]" : $"[red bold]{p.Violations}[/]");
        return table;
    }

    /// <summary>Keeps the latest reading for the live display's refresh loop.</summary>
    private sealed class LatestProgress : IProgress<ChaosProgress>
    {
        private ChaosProgress? _value;

        public ChaosProgress? Value => Volatile.Read(ref _value);

        public void Report(ChaosProgress value) => Volatile.Write(ref _value, value);
    }

    /// <summary>Calls back on the reporting thread (<see cref="Progress{T}"/> would post to a context, reordering lines).</summary>
    private sealed class SynchronousProgress(Action<ChaosProgress> report) : IProgress<ChaosProgress>
    {
        public void Report(ChaosProgress value) => report(value);
    }
}

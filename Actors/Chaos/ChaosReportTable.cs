using Spectre.Console;
using Spectre.Console.Rendering;

namespace Netmem.Chaos;

/// <summary>The end-of-run summary: one table, a section per concern, every violation counter on its own row.</summary>
internal static class ChaosReportTable
{
    public static IRenderable Render(ChaosReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]chaos run report[/]");
        table.AddColumn("what");
        table.AddColumn(new TableColumn("count").RightAligned());

        Section(table, "run");
        Row(table, "seed", report.Seed.ToString());
        Row(table, "traffic time", $"{report.DurationSeconds:F1} s");
        Row(table, "wall time (with shutdown and checks)", $"{report.WallSeconds:F1} s");
        Row(table, "device", report.Device == ChaosDeviceKind.Uring ? "io_uring (the kernel, AF_PACKET on lo)" : "simulated");
        Row(table, "topology", $"{report.Devices} devices × {report.QueuesPerDevice} RX queues, {report.Consumers} consumers");
        Row(table, "fault rate", report.FaultRate.ToString("G"));
        Row(table, "ended", report.Cancelled ? "[yellow bold]CANCELLED[/] (stopped early; shutdown and audits ran)" : "ran its full length");

        Section(table, "packets");
        if (report.KernelPacketsReceived is { } kernel)
        {
            Row(table, "kernel-written packets received", kernel);
        }

        Row(table, "received", report.Packets.Received);
        Row(table, "delivered", report.Packets.Delivered);
        foreach ((string reason, long count) in report.Packets.DroppedByReason)
        {
            Row(table, $"dropped: {reason}", count);
        }

        Row(table, "received = delivered + dropped", report.Packets.AddsUp ? "[green]yes[/]" : $"[red]no, {report.Packets.Unaccounted} unaccounted[/]");

        Section(table, "unbind");
        Row(table, "unbinds", report.Unbinds);
        Row(table, "rebinds", report.Rebinds);
        Row(table, "inflight at unbind (sum)", report.InflightAtUnbindSum);
        Row(table, "inflight at unbind (max)", report.InflightAtUnbindMax);
        Row(table, "pages unmapped by destroy", report.PagesUnmappedByDestroy);
        Row(table, "pages revoked with the domain", report.PagesRevokedWithDomain);
        Row(table, "unbind phases timed out", report.PhaseTimeouts);
        Row(table, "late returns", report.LateReturns);
        Row(table, "pages returned by storms", report.StormReturns);
        Row(table, "consumer crashes", report.ConsumerCrashes);

        Section(table, "faults injected");
        foreach ((FaultKind kind, long count) in report.FaultsInjected)
        {
            Row(table, kind.ToString(), count);
        }

        Section(table, "misuse rejected");
        foreach ((Pool.Misuse.MisuseKind kind, long count) in report.MisuseRejected.Where(m => m.Value > 0))
        {
            Row(table, kind.ToString(), count);
        }

        Section(table, "violations");
        foreach ((string name, long count) in report.Violations.Counters())
        {
            table.AddRow(Markup.Escape(name), count == 0 ? "[green]0[/]" : $"[red bold]{count}[/]");
        }

        if (report.NotExercised.Count > 0)
        {
            Section(table, "not exercised (the run cannot pass)");
            foreach (string missing in report.NotExercised)
            {
                table.AddRow(new Markup($"[red]{Markup.Escape(missing)}[/]"), new Text(string.Empty));
            }
        }

        if (report.Problems.Count > 0)
        {
            Section(table, "problems (not violations)");
            foreach (string problem in report.Problems)
            {
                table.AddRow(new Markup($"[yellow]{Markup.Escape(problem)}[/]"), new Text(string.Empty));
            }
        }

        return table;
    }

    private static void Section(Table table, string title) => table.AddRow($"[bold underline]{title}[/]", string.Empty);

    private static void Row(Table table, string name, long count) => table.AddRow(Markup.Escape(name), count.ToString("N0"));

    private static void Row(Table table, string name, string markup) => table.AddRow(Markup.Escape(name), markup);
}

using System.Globalization;
using System.Text;
using ScottPlot;

namespace Netmem.UringBench.Orchestration;

/// <summary>The results as a Markdown table and a plot of CPU per packet against the rate the sender reached.</summary>
internal static class ResultsReport
{
    public static string Table(IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| offered rate | receiver | sent (pkt/s) | delivered | CPU µs/packet | vs best .NET loop | allocated B/packet |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (IGrouping<double, RunResult> rate in results.GroupBy(r => r.OfferedRate))
        {
            double bestDotnet = rate.Where(r => r.Receiver != "io_uring device").Select(r => r.CpuMicrosecondsPerPacket).DefaultIfEmpty(double.NaN).Min();
            foreach (RunResult r in rate)
            {
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {RateName(r.OfferedRate)} | {r.Receiver} | {r.SentRate:N0} | {r.DeliveredPercent:F2} % ({r.Delivered:N0}/{r.Sent:N0}) | {r.CpuMicrosecondsPerPacket:F2} | {r.CpuMicrosecondsPerPacket / bestDotnet:F2}× | {r.AllocatedBytesPerPacket:F1} |"));
            }
        }

        return text.ToString();
    }

    public static string RateName(double rate) => rate <= 0 ? "max" : string.Create(CultureInfo.InvariantCulture, $"{rate / 1000:N0} k/s");

    public static void Plot(IReadOnlyList<RunResult> results, string path)
    {
        var plot = new Plot();
        foreach (IGrouping<string, RunResult> receiver in results.GroupBy(r => r.Receiver))
        {
            RunResult[] points = receiver.OrderBy(r => r.SentRate).ToArray();
            var scatter = plot.Add.Scatter(points.Select(r => r.SentRate / 1000).ToArray(), points.Select(r => r.CpuMicrosecondsPerPacket).ToArray());
            scatter.LegendText = receiver.Key;
            scatter.MarkerSize = 8;
        }

        plot.Title("Receiver CPU per UDP packet on loopback (user + system of the receiving process)");
        plot.XLabel("packets per second the sender reached (thousands)");
        plot.YLabel("CPU µs per delivered packet");
        plot.Axes.SetLimitsY(0, results.Max(r => double.IsFinite(r.CpuMicrosecondsPerPacket) ? r.CpuMicrosecondsPerPacket : 0) * 1.2);
        plot.ShowLegend(Alignment.UpperRight);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 900, 560);
    }
}

using System.Globalization;
using System.Text;
using ScottPlot;

namespace Netmem.UringBench.Orchestration;

/// <summary>The results as a Markdown table and a plot of CPU per packet against the rate the sender reached.</summary>
internal static class ResultsReport
{
    /// <summary>
    /// One row per offered rate and receiver: the median over the repetitions (CPU with its range, delivery with its
    /// worst run), since the shared two-core machines make any single run noisy.
    /// </summary>
    public static string Table(IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| offered rate | receiver | runs | sender reached (pkt/s) | delivered, median (worst) | CPU µs/packet, median (range) | kernel share | vs best .NET loop | allocated B/packet |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (IGrouping<double, RunResult> rate in results.GroupBy(r => r.OfferedRate))
        {
            IGrouping<string, RunResult>[] receivers = rate.GroupBy(r => r.Receiver).ToArray();
            double bestDotnet = receivers.Where(g => g.Key != "io_uring device").Select(g => Median(g.Select(r => r.CpuMicrosecondsPerPacket))).DefaultIfEmpty(double.NaN).Min();
            foreach (IGrouping<string, RunResult> runs in receivers)
            {
                double cpu = Median(runs.Select(r => r.CpuMicrosecondsPerPacket));
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {RateName(rate.Key)} | {runs.Key} | {runs.Count()} | {Median(runs.Select(r => r.SentRate)):N0} | {Median(runs.Select(r => r.DeliveredPercent)):F2} % ({runs.Min(r => r.DeliveredPercent):F2} %) | {cpu:F2} ({runs.Min(r => r.CpuMicrosecondsPerPacket):F2}–{runs.Max(r => r.CpuMicrosecondsPerPacket):F2}) | {Median(runs.Select(r => r.SystemShare)) * 100:F0} % | {cpu / bestDotnet:F2}× | {Median(runs.Select(r => r.AllocatedBytesPerPacket)):F1} |"));
            }
        }

        return text.ToString();
    }

    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string RateName(double rate) => rate <= 0 ? "max" : string.Create(CultureInfo.InvariantCulture, $"{rate / 1000:N0} k/s");

    public static void Plot(IReadOnlyList<RunResult> results, string path)
    {
        var plot = new Plot();
        foreach (IGrouping<string, RunResult> receiver in results.GroupBy(r => r.Receiver))
        {
            // One point per offered rate: median sender rate against median CPU per packet.
            (double Rate, double Cpu)[] points = receiver.GroupBy(r => r.OfferedRate)
                .Select(g => (Median(g.Select(r => r.SentRate)), Median(g.Select(r => r.CpuMicrosecondsPerPacket))))
                .OrderBy(p => p.Item1).ToArray();
            var scatter = plot.Add.Scatter(points.Select(p => p.Rate / 1000).ToArray(), points.Select(p => p.Cpu).ToArray());
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

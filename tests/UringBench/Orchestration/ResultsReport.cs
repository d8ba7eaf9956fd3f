using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

namespace Netmem.UringBench.Orchestration;

/// <summary>The results as Markdown tables, JSON, and plots of CPU per packet and of latency.</summary>
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
            double bestDotnet = receivers.Where(g => g.Key.StartsWith("receive-from", StringComparison.Ordinal)).Select(g => Median(g.Select(r => r.CpuMicrosecondsPerPacket))).DefaultIfEmpty(double.NaN).Min();
            foreach (IGrouping<string, RunResult> runs in receivers)
            {
                double cpu = Median(runs.Select(r => r.CpuMicrosecondsPerPacket));
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {RateName(rate.Key)} | {runs.Key} | {runs.Count()} | {Median(runs.Select(r => r.SentRate)):N0} | {Median(runs.Select(r => r.DeliveredPercent)):F2} % ({runs.Min(r => r.DeliveredPercent):F2} %) | {cpu:F2} ({runs.Min(r => r.CpuMicrosecondsPerPacket):F2}–{runs.Max(r => r.CpuMicrosecondsPerPacket):F2}) | {Median(runs.Select(r => r.SystemShare)) * 100:F0} % | {cpu / bestDotnet:F2}× | {Median(runs.Select(r => r.AllocatedBytesPerPacket)):F1} |"));
            }
        }

        return text.ToString();
    }

    /// <summary>One row per offered rate and receiver: the medians over the repetitions of each run's percentiles, and the worst run's maximum.</summary>
    public static string LatencyTable(IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| offered rate | receiver | runs | p50 µs | p90 µs | p99 µs | max µs |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (IGrouping<double, RunResult> rate in results.GroupBy(r => r.OfferedRate))
        {
            foreach (IGrouping<string, RunResult> runs in rate.GroupBy(r => r.Receiver))
            {
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {RateName(rate.Key)} | {runs.Key} | {runs.Count()} | {Median(runs.Select(r => r.Latency.P50)):N1} | {Median(runs.Select(r => r.Latency.P90)):N1} | {Median(runs.Select(r => r.Latency.P99)):N1} | {Worst(runs.Select(r => r.Latency.Max)):N1} |"));
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// One object per receiver and offered rate (medians over the repetitions; the maximum latency is the worst run's):
    /// receiver, rate (packets/s, or "max"), cpu_us_per_packet, delivered_ratio, latency_us_p50/p90/p99/max,
    /// alloc_bytes_per_packet; a figure that could not be measured is null.
    /// </summary>
    public static void WriteJson(IReadOnlyList<RunResult> results, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using FileStream file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (IGrouping<(string Receiver, double Rate), RunResult> runs in results.GroupBy(r => (r.Receiver, r.OfferedRate)))
        {
            json.WriteStartObject();
            json.WriteString("receiver", runs.Key.Receiver);
            if (runs.Key.Rate > 0)
            {
                json.WriteNumber("rate", runs.Key.Rate);
            }
            else
            {
                json.WriteString("rate", "max");
            }

            Number(json, "cpu_us_per_packet", Median(runs.Select(r => r.CpuMicrosecondsPerPacket)));
            Number(json, "delivered_ratio", Median(runs.Select(r => r.DeliveredPercent / 100)));
            Number(json, "latency_us_p50", Median(runs.Select(r => r.Latency.P50)));
            Number(json, "latency_us_p90", Median(runs.Select(r => r.Latency.P90)));
            Number(json, "latency_us_p99", Median(runs.Select(r => r.Latency.P99)));
            Number(json, "latency_us_max", Worst(runs.Select(r => r.Latency.Max)));
            Number(json, "alloc_bytes_per_packet", Median(runs.Select(r => r.AllocatedBytesPerPacket)));
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>
    /// Latency p50 (filled) and p99 (open) per receiver against the offered rate, on a logarithmic axis: the
    /// receivers span from microseconds to the device's timer-driven milliseconds.
    /// </summary>
    public static void PlotLatency(IReadOnlyList<RunResult> results, string path)
    {
        var plot = new Plot();
        double[] rates = results.Select(r => r.OfferedRate).Distinct().OrderBy(r => r <= 0 ? double.MaxValue : r).ToArray();
        string[] receivers = results.Select(r => r.Receiver).Distinct().ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        for (int k = 0; k < receivers.Length; k++)
        {
            RunResult[] runs = results.Where(r => r.Receiver == receivers[k]).ToArray();
            double offset = (k - ((receivers.Length - 1) / 2.0)) * 0.08;
            double[] x = rates.Select((_, i) => i + offset).ToArray();
            double[] p50 = rates.Select(rate => Math.Log10(Math.Max(1, Median(runs.Where(r => r.OfferedRate == rate).Select(r => r.Latency.P50))))).ToArray();
            double[] p99 = rates.Select(rate => Math.Log10(Math.Max(1, Median(runs.Where(r => r.OfferedRate == rate).Select(r => r.Latency.P99))))).ToArray();
            var median = plot.Add.Scatter(x, p50);
            median.LegendText = $"{receivers[k]} p50";
            median.Color = palette.GetColor(k);
            median.MarkerSize = 9;
            var tail = plot.Add.Scatter(x, p99);
            tail.LegendText = $"{receivers[k]} p99";
            tail.Color = median.Color;
            tail.LinePattern = LinePattern.Dotted;
            tail.MarkerShape = MarkerShape.OpenCircle;
            tail.MarkerSize = 9;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            rates.Select((_, i) => (double)i).ToArray(), rates.Select(r => r <= 0 ? "max" : string.Create(CultureInfo.InvariantCulture, $"{r:N0}/s")).ToArray());
        double[] decades = [0, 1, 2, 3, 4, 5, 6];
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(decades, decades.Select(d => string.Create(CultureInfo.InvariantCulture, $"{Math.Pow(10, d):G}")).ToArray());
        plot.Axes.SetLimitsY(0, 6);
        plot.Title("Latency, send to read, per receiver (p50 filled, p99 open; log scale)");
        plot.XLabel("offered rate (datagrams/s)");
        plot.YLabel("latency µs");
        plot.ShowLegend(Edge.Right);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 1150, 640);
    }

    /// <summary>The latency figures of a JSON file written by <see cref="WriteJson"/>, as one run per object (for re-plotting).</summary>
    public static List<RunResult> ReadLatencies(string path)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.EnumerateArray().Select(o => new RunResult(
            o.GetProperty("receiver").GetString()!,
            o.GetProperty("rate").ValueKind == JsonValueKind.Number ? o.GetProperty("rate").GetDouble() : 0,
            double.NaN, 0, 0, 0, 0, double.NaN, string.Empty,
            new LatencyMicroseconds(Value(o, "latency_us_p50"), Value(o, "latency_us_p90"), Value(o, "latency_us_p99"), Value(o, "latency_us_max")))).ToList();

        static double Value(JsonElement o, string name) => o.GetProperty(name).ValueKind == JsonValueKind.Number ? o.GetProperty(name).GetDouble() : double.NaN;
    }

    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Worst(IEnumerable<double> values) => values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();

    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, Math.Round(value, 4));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    public static string RateName(double rate) =>
        rate <= 0 ? "max" : rate >= 1000 ? string.Create(CultureInfo.InvariantCulture, $"{rate / 1000:N0} k/s") : string.Create(CultureInfo.InvariantCulture, $"{rate:N0}/s");

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

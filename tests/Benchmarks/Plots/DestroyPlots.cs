using ScottPlot;
using ScottPlot.TickGenerators;

namespace Netmem.Benchmarks.Plots;

/// <summary>
/// Renders the destroy case's results (medians): destroy time against inflight pages (log–log), and the cost per page
/// against inflight pages, with the part beyond the device's own unmap and the 20 ns/page goal.
/// </summary>
public static class DestroyPlots
{
    private const string PagesColumn = "InflightPages";
    private const string MedianColumn = "Median [ns]";
    private const double GoalNanosecondsPerPage = 20;

    private static readonly (string Method, string Label)[] Series =
    [
        ("Destroy_NoOpDevice", "Destroy, no-op device"),
        ("Destroy_IommuModel", "Destroy, strict IOMMU model"),
        ("IommuModel_UnmapAlone", "IOMMU model unmaps alone (device cost)"),
        ("OutstandingList_Alone", "Report's outstanding-page list alone"),
    ];

    public static void Render(string resultsDirectory, string outputDirectory)
    {
        BenchmarkCsv csv = BenchmarkCsv.Load(resultsDirectory, "Method", PagesColumn, MedianColumn);
        Directory.CreateDirectory(outputDirectory);
        Dictionary<string, SortedDictionary<double, double>> medians = Series.ToDictionary(s => s.Method, s => MediansByPages(csv, s.Method));

        string timePath = Path.Combine(outputDirectory, "destroy-time-vs-inflight.png");
        RenderTime(medians, timePath);
        string perPagePath = Path.Combine(outputDirectory, "destroy-ns-per-page.png");
        RenderPerPage(medians, perPagePath);
        Console.WriteLine($"Wrote {timePath} and {perPagePath}.");
    }

    private static SortedDictionary<double, double> MediansByPages(BenchmarkCsv csv, string method)
    {
        var medians = new SortedDictionary<double, double>();
        foreach (string[] row in csv.Rows.Where(r => csv.Text(r, "Method") == method))
        {
            medians[csv.Number(row, PagesColumn)] = csv.Number(row, MedianColumn);
        }

        if (medians.Count == 0)
        {
            throw new InvalidDataException($"The reports have no results for {method}.");
        }

        return medians;
    }

    private static void RenderTime(Dictionary<string, SortedDictionary<double, double>> medians, string path)
    {
        var plot = new Plot();
        foreach ((string method, string label) in Series)
        {
            double[] pages = medians[method].Keys.Select(Math.Log10).ToArray();
            double[] milliseconds = medians[method].Values.Select(ns => Math.Log10(ns / 1e6)).ToArray();
            plot.Add.Scatter(pages, milliseconds).LegendText = label;
        }

        plot.Axes.Bottom.TickGenerator = LogTicks(v => $"{Math.Pow(10, v):N0}");
        plot.Axes.Left.TickGenerator = LogTicks(v => $"{Math.Pow(10, v):G4}");
        plot.Title("PagePool destroy time against inflight pages (log–log)");
        plot.XLabel("inflight pages");
        plot.YLabel("time (ms)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }

    private static void RenderPerPage(Dictionary<string, SortedDictionary<double, double>> medians, string path)
    {
        var plot = new Plot();
        SortedDictionary<double, double> device = medians["IommuModel_UnmapAlone"];
        AddPerPage(plot, medians["Destroy_NoOpDevice"], "Destroy, no-op device");
        AddPerPage(plot, medians["Destroy_IommuModel"], "Destroy, strict IOMMU model");
        AddPerPage(plot, device, "IOMMU model unmaps alone");
        AddPerPage(plot, medians["OutstandingList_Alone"], "Report's outstanding-page list alone");
        var beyond = new SortedDictionary<double, double>(
            medians["Destroy_IommuModel"].Where(p => device.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value - device[p.Key]));
        AddPerPage(plot, beyond, "Destroy beyond the device's unmap (IOMMU − unmap alone)");

        plot.Add.HorizontalLine(GoalNanosecondsPerPage, pattern: LinePattern.Dashed).LegendText = "goal: 20 ns/page beyond the device";
        plot.Axes.Bottom.TickGenerator = LogTicks(v => $"{Math.Pow(10, v):N0}");
        plot.Title("PagePool destroy cost per inflight page");
        plot.XLabel("inflight pages");
        plot.YLabel("ns per inflight page");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 900, 560);
    }

    private static void AddPerPage(Plot plot, SortedDictionary<double, double> medians, string label)
    {
        double[] pages = medians.Keys.Select(Math.Log10).ToArray();
        double[] perPage = medians.Select(p => p.Value / p.Key).ToArray();
        plot.Add.Scatter(pages, perPage).LegendText = label;
    }

    private static NumericAutomatic LogTicks(Func<double, string> label) => new()
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = label,
    };
}

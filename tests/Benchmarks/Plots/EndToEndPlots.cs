using ScottPlot;
using ScottPlot.TickGenerators;

namespace Netmem.Benchmarks.Plots;

/// <summary>
/// Renders the end-to-end case's results (medians): packets per second against frame size, one line per queue
/// count, on a log scale so the line-rate goal and the measured rates fit one plot.
/// </summary>
public static class EndToEndPlots
{
    private const string MedianColumn = "Median [ns]";
    private const string Method = "DriverToConsumerAndBack";
    private const double LineRate64ByteFrames = 14.88;

    public static void Render(string resultsDirectory, string outputDirectory)
    {
        BenchmarkCsv csv = BenchmarkCsv.Load(resultsDirectory, "Method", "FrameSize", "Queues", MedianColumn);
        string[][] rows = csv.Rows.Where(r => csv.Text(r, "Method") == Method).ToArray();
        if (rows.Length == 0)
        {
            throw new InvalidDataException($"The reports have no results for {Method}.");
        }

        var plot = new Plot();
        foreach (IGrouping<double, string[]> queues in rows.GroupBy(r => csv.Number(r, "Queues")).OrderBy(g => g.Key))
        {
            string[][] points = queues.OrderBy(r => csv.Number(r, "FrameSize")).ToArray();
            double[] frameSizes = points.Select(r => csv.Number(r, "FrameSize")).ToArray();
            double[] millionsPerSecond = points.Select(r => Math.Log10(1e3 / csv.Number(r, MedianColumn))).ToArray();
            plot.Add.Scatter(frameSizes, millionsPerSecond).LegendText = queues.Key == 1 ? "1 RX queue" : $"{queues.Key} RX queues";
        }

        plot.Add.HorizontalLine(Math.Log10(LineRate64ByteFrames), pattern: LinePattern.Dashed).LegendText = "goal: 14.88 M packets/s (10 GbE, 64-byte frames)";
        plot.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => $"{Math.Pow(10, v):G4}",
        };
        plot.Axes.SetLimitsY(-2, 2);
        plot.Title("End-to-end packets per second: driver → stack → consumer → return");
        plot.XLabel("frame size (bytes)");
        plot.YLabel("million packets per second (log)");
        plot.ShowLegend(Alignment.UpperRight);

        Directory.CreateDirectory(outputDirectory);
        string path = Path.Combine(outputDirectory, "end-to-end-packets-per-second.png");
        plot.SavePng(path, 900, 560);
        Console.WriteLine($"Wrote {path}.");
    }
}

using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;
using Perfolizer.Metrology;

namespace Netmem.Benchmarks;

/// <summary>
/// The configuration every case runs with: allocations measured, the median always shown (robust to the load
/// spikes of a shared machine), results grouped by category so each case's baseline ratio is computed inside its own
/// table, and a machine-readable CSV (nanoseconds, no units in the cells) that the plot mode reads.
/// </summary>
public static class BenchmarkConfig
{
    public static IConfig Create()
    {
        var csvStyle = new SummaryStyle(
            CultureInfo.InvariantCulture,
            printUnitsInHeader: true,
            sizeUnit: SizeUnit.B,
            timeUnit: TimeUnit.Nanosecond,
            printUnitsInContent: false,
            printZeroValuesInContent: true);

        return ManualConfig.CreateMinimumViable()
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(CategoriesColumn.Default, StatisticColumn.Median)
            .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory)
            .AddExporter(MarkdownExporter.GitHub)
            .AddExporter(new CsvExporter(CsvSeparator.Semicolon, csvStyle));
    }
}

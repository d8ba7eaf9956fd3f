using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Netmem.Benchmarks.Columns;

/// <summary>Throughput from the per-operation median: 10³ / median(ns) million operations (pages, packets) per second.</summary>
public sealed class MillionsPerSecondColumn(string columnName) : IColumn
{
    public string Id => nameof(MillionsPerSecondColumn) + columnName;

    public string ColumnName => columnName;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Millions of operations per second: 1000 / median time per operation in ns";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase]?.ResultStatistics is { Median: > 0 } statistics
            ? (1e3 / statistics.Median).ToString("0.000", style.CultureInfo)
            : "-";
}

using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Netmem.Benchmarks.Columns;

/// <summary>The median divided by the benchmark's <c>InflightPages</c> parameter: the destroy cost per inflight page.</summary>
public sealed class NanosecondsPerPageColumn : IColumn
{
    private const string PagesParameter = "InflightPages";

    public string Id => nameof(NanosecondsPerPageColumn);

    public string ColumnName => "ns/page";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Median time divided by the number of inflight pages";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } statistics || benchmarkCase.Parameters[PagesParameter] is not int pages || pages <= 0)
        {
            return "-";
        }

        return (statistics.Median / pages).ToString("0.00", style.CultureInfo);
    }
}

using BenchmarkDotNet.Configs;

namespace Netmem.Benchmarks.Columns;

/// <summary>Adds a million-pages-per-second column to a case whose operation is one page's round trip.</summary>
public sealed class PagesPerSecondConfig : ManualConfig
{
    public PagesPerSecondConfig() => AddColumn(new MillionsPerSecondColumn("M pages/s"));
}

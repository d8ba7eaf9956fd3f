using BenchmarkDotNet.Configs;

namespace Netmem.Benchmarks.Columns;

/// <summary>Adds the per-page column to the destroy case.</summary>
public sealed class DestroyColumnsConfig : ManualConfig
{
    public DestroyColumnsConfig() => AddColumn(new NanosecondsPerPageColumn());
}

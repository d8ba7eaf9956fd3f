using BenchmarkDotNet.Configs;

namespace Netmem.Benchmarks.Columns;

/// <summary>Adds a million-packets-per-second column to a case whose operation is one packet.</summary>
public sealed class PacketsPerSecondConfig : ManualConfig
{
    public PacketsPerSecondConfig() => AddColumn(new MillionsPerSecondColumn("M packets/s"));
}

using System.Diagnostics.Metrics;
using Netmem.Driver;

namespace Netmem.Benchmarks.Support;

/// <summary>
/// Counts the driver's polls from its instruments (<c>driver.rx.batches</c>, <c>driver.rx.idle_polls</c>) and prints
/// them per iteration (<c>// driver-stats</c> in the log), so a run shows whether a queue ever waited on the idle
/// timer while frames were waiting.
/// </summary>
public sealed class DriverStatsLog : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _batches;
    private long _idlePolls;

    public DriverStatsLog()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DriverMetrics.MeterName && instrument.Name is "driver.rx.batches" or "driver.rx.idle_polls")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "driver.rx.batches")
            {
                Interlocked.Add(ref _batches, value);
            }
            else
            {
                Interlocked.Add(ref _idlePolls, value);
            }
        });
        _listener.Start();
    }

    /// <summary>Prints the counts since the last call and starts counting again.</summary>
    public void WriteAndReset(string benchmark) =>
        Console.WriteLine($"// driver-stats {benchmark}: batches={Interlocked.Exchange(ref _batches, 0)} idle_polls={Interlocked.Exchange(ref _idlePolls, 0)}");

    public void Dispose() => _listener.Dispose();
}

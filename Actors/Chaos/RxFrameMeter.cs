using System.Diagnostics.Metrics;
using Netmem.Driver;
using Netmem.Stack.Actors;

namespace Netmem.Chaos;

/// <summary>
/// Listens to the driver's <c>driver.rx.frames</c> (frames handed to the stack: the run's "received") and the stack's
/// <c>stack.rx.frames</c> (frames the stack demultiplexed), counting only the run's own devices.
/// </summary>
public sealed class RxFrameMeter : IDisposable
{
    private const string DriverFrames = "driver.rx.frames";
    private const string StackFrames = "stack.rx.frames";

    private readonly MeterListener _listener = new();
    private readonly IReadOnlySet<string> _devices;
    private long _received;
    private long _demultiplexed;

    public RxFrameMeter(IEnumerable<string> devices)
    {
        _devices = devices.ToHashSet(StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if ((instrument.Meter.Name, instrument.Name) is (DriverMetrics.MeterName, DriverFrames) or (StackMetrics.MeterName, StackFrames))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Frames the drivers handed to the stack.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Frames the stack queues handed to the demultiplexer.</summary>
    public long Demultiplexed => Interlocked.Read(ref _demultiplexed);

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!IsOurDevice(tags))
        {
            return;
        }

        if (instrument.Name == DriverFrames)
        {
            Interlocked.Add(ref _received, value);
        }
        else
        {
            Interlocked.Add(ref _demultiplexed, value);
        }
    }

    private bool IsOurDevice(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "device")
            {
                return tag.Value is string device && _devices.Contains(device);
            }
        }

        return false;
    }
}

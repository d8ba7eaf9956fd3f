using System.Diagnostics.Metrics;

namespace Netmem.Driver;

/// <summary>
/// The driver's instruments, under the meter <c>Netmem.Driver</c>: <c>driver.rx.frames</c>,
/// <c>driver.rx.batches</c>, <c>driver.rx.idle_polls</c> (polls that found less than their budget and left the queue
/// to the idle timer) and <c>driver.ring_refill.deferred</c> (refills handed to the retry pipeline), each tagged with
/// <c>device</c> and <c>queue</c>. Recorded once per poll, never per frame.
/// </summary>
public static class DriverMetrics
{
    /// <summary>The meter's name, to subscribe to the driver's instruments (e.g. <c>AddMeter(DriverMetrics.MeterName)</c>).</summary>
    public const string MeterName = "Netmem.Driver";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_frames = s_meter.CreateCounter<long>("driver.rx.frames", "{frames}", "Frames received and handed to the stack.");
    private static readonly Counter<long> s_batches = s_meter.CreateCounter<long>("driver.rx.batches", "{batches}", "RX batches handed to the stack.");
    private static readonly Counter<long> s_idlePolls = s_meter.CreateCounter<long>("driver.rx.idle_polls", "{polls}", "Polls that found less than their budget and re-armed the idle timer.");
    private static readonly Counter<long> s_deferredRefills = s_meter.CreateCounter<long>("driver.ring_refill.deferred", "{refills}", "Ring refills retried off the poll loop.");

    /// <summary>The tags of one queue, built once so recording allocates nothing.</summary>
    internal static KeyValuePair<string, object?>[] QueueTags(string device, int queue) => [new("device", device), new("queue", queue)];

    internal static void RecordBatch(ReadOnlySpan<KeyValuePair<string, object?>> queueTags, int frames)
    {
        s_frames.Add(frames, queueTags);
        s_batches.Add(1, queueTags);
    }

    internal static void RecordIdlePoll(ReadOnlySpan<KeyValuePair<string, object?>> queueTags) => s_idlePolls.Add(1, queueTags);

    internal static void RecordDeferredRefill(ReadOnlySpan<KeyValuePair<string, object?>> queueTags) => s_deferredRefills.Add(1, queueTags);
}

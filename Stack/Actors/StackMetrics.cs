using System.Diagnostics.Metrics;

namespace Netmem.Stack.Actors;

/// <summary>
/// The stack actors' instruments, under the meter <c>Netmem.Stack</c>: <c>stack.rx.frames</c> (frames handed to the
/// demultiplexer, tagged <c>device</c> and <c>queue</c>, recorded once per batch) and <c>stack.child.restarts</c> (stack queues and consumers restarted after a crash).
/// </summary>
public static class StackMetrics
{
    /// <summary>The meter's name, to subscribe to the stack's instruments (e.g. <c>AddMeter(StackMetrics.MeterName)</c>).</summary>
    public const string MeterName = "Netmem.Stack";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_frames = s_meter.CreateCounter<long>("stack.rx.frames", "{frames}", "Frames parsed and demultiplexed.");
    private static readonly Counter<long> s_childRestarts = s_meter.CreateCounter<long>("stack.child.restarts", "{restarts}", "Stack queue and consumer actors restarted after a crash.");

    internal static void RecordBatch(ReadOnlySpan<KeyValuePair<string, object?>> tags, int frames) => s_frames.Add(frames, tags);

    internal static void RecordChildRestart() => s_childRestarts.Add(1);
}

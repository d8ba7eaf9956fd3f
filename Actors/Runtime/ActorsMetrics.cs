using System.Diagnostics.Metrics;
using Netmem.Actors.Protocol;

namespace Netmem.Actors;

/// <summary>
/// The runtime's instruments, under the meter <c>Netmem.Actors</c>: <c>device.unbind.duration</c> (histogram, ms),
/// <c>device.unbind.pages_unmapped</c> (pages held elsewhere that unbinds unmapped) and
/// <c>device.unbind.phase_timeouts</c>, each tagged with <c>device</c>.
/// </summary>
internal static class ActorsMetrics
{
    public const string MeterName = "Netmem.Actors";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Histogram<double> s_unbindDuration = s_meter.CreateHistogram<double>("device.unbind.duration", "ms", "How long device unbinds took.");
    private static readonly Counter<long> s_unmapped = s_meter.CreateCounter<long>("device.unbind.pages_unmapped", "{pages}", "Pages held elsewhere that unbinds unmapped.");
    private static readonly Counter<long> s_phaseTimeouts = s_meter.CreateCounter<long>("device.unbind.phase_timeouts", "{phases}", "Unbind phases that timed out.");

    internal static void RecordUnbind(UnbindReport report)
    {
        var device = new KeyValuePair<string, object?>("device", report.Device);
        s_unbindDuration.Record(report.Duration.TotalMilliseconds, device);
        s_unmapped.Add(report.UnmappedByDestroy, device);
        s_phaseTimeouts.Add(report.TimedOutPhases.Count, device);
    }
}

using Netmem.Actors.Protocol;
using Netmem.Uring;

namespace Netmem.Chaos;

/// <summary>How a <c>receive</c> run ended: its unbind report and the device's counters, or why it could not bind.</summary>
/// <param name="Device">The device name.</param>
/// <param name="BindError">Why the device could not be bound, in words; null when it was.</param>
/// <param name="Report">The unbind report (null when the device was never bound).</param>
/// <param name="Counters">What the real device did over the run.</param>
/// <param name="Last">The last reading (packets delivered and dropped).</param>
internal sealed record ReceiveResult(string Device, string? BindError, UnbindReport? Report, UringCounters Counters, ReceiveProgress Last)
{
    /// <summary>Bound, unbound cleanly (every phase in time, nothing revoked or leaked) and the kernel saw no error.</summary>
    public bool Clean => BindError is null && Report is { IsClean: true } && Counters.Violations == 0;
}

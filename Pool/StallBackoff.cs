namespace Netmem.Pool;

/// <summary>
/// When a stalled pool is reported: first once it has waited <c>firstAfter</c>, then each time after twice the
/// previous interval, never more than <c>maxInterval</c> apart (1 s, then 2 s, 4 s, … 60 s by default), so a pool
/// stuck for an hour is reported about 65 times, not 36,000.
/// </summary>
/// <remarks>Not thread-safe: one reporter (a timer, an actor) owns it.</remarks>
public sealed class StallBackoff
{
    private readonly TimeSpan _maxInterval;
    private TimeSpan _interval;

    /// <param name="firstAfter">How long a pool waits before its first report; positive.</param>
    /// <param name="maxInterval">The longest interval between two reports; at least <paramref name="firstAfter"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The intervals are not positive or not in order.</exception>
    public StallBackoff(TimeSpan firstAfter, TimeSpan maxInterval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstAfter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInterval, firstAfter);
        _maxInterval = maxInterval;
        _interval = firstAfter;
        NextReportAt = firstAfter;
    }

    /// <summary>How long the pool will have waited at its next report.</summary>
    public TimeSpan NextReportAt { get; private set; }

    /// <summary>
    /// True when a pool that has waited <paramref name="stalledFor"/> is due a report; the schedule then moves on
    /// (past <paramref name="stalledFor"/>, so a reporter that woke late reports once, not once per missed step).
    /// </summary>
    public bool IsDue(TimeSpan stalledFor)
    {
        if (stalledFor < NextReportAt)
        {
            return false;
        }

        while (NextReportAt <= stalledFor)
        {
            _interval = _interval * 2 > _maxInterval ? _maxInterval : _interval * 2;
            NextReportAt += _interval;
        }

        return true;
    }
}

using Xunit;
namespace Netmem.Pool.Tests;

public sealed class StallBackoffSpecs
{
    [Fact]
    public void Reports_come_after_1_2_4_seconds_and_so_on_capped_at_the_longest_interval()
    {
        var backoff = new StallBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var reportedAt = new List<int>();

        for (int second = 0; second <= 300; second++)
        {
            if (backoff.IsDue(TimeSpan.FromSeconds(second)))
            {
                reportedAt.Add(second);
            }
        }

        Assert.Equal([1, 3, 7, 15, 31, 63, 123, 183, 243], reportedAt);
    }

    [Fact]
    public void A_reporter_that_wakes_late_reports_once_and_the_schedule_moves_past_now()
    {
        var backoff = new StallBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

        Assert.True(backoff.IsDue(TimeSpan.FromSeconds(20)));
        Assert.False(backoff.IsDue(TimeSpan.FromSeconds(30)));
        Assert.Equal(TimeSpan.FromSeconds(31), backoff.NextReportAt);
    }

    [Fact]
    public void Intervals_must_be_positive_and_in_order()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StallBackoff(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StallBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}

using Microsoft.Extensions.Logging;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolStallLogSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_destroyed_pool_waiting_for_a_page_logs_the_stall_in_the_kernels_words_with_back_off()
    {
        var logs = new RecordingLoggerFactory();
        TestPool t = TestPool.Create(o => o with
        {
            Name = "stall-log-spec",
            LoggerFactory = logs,
            StallLogFirstAfter = TimeSpan.FromMilliseconds(200),
            StallLogMaxInterval = TimeSpan.FromMilliseconds(800),
        });
        NetmemRef held = t.Pool.Allocate();
        t.DestroyAndUnbind();

        // Due at 0.2 s, 0.6 s (+0.4), 1.4 s (+0.8), 2.2 s (+0.8, capped), 3.0 s …
        await WaitUntil(() => logs.Entries.Count >= 4);
        RecordingLoggerFactory.LogEntry[] entries = logs.Entries.ToArray();

        Assert.All(entries, e =>
        {
            Assert.Equal("Netmem.Pool.PagePool", e.Category);
            Assert.Equal(LogLevel.Warning, e.Level);
            Assert.Matches(@"^stalled pool shutdown: 1 inflight, [0-9.]+ s \(pool stall-log-spec, id [0-9]+\)$", e.Message);
        });
        // The back-off: report k says how long the pool has stalled, and that is never before the k-th due time
        // (0.2 s, then +0.4 s, then +0.8 s capped: 0.2, 0.6, 1.4, 2.2 s), however late the timer ran. Logging at every
        // 100 ms tick instead would put the second report at about 0.3 s. (The schedule itself is StallBackoffSpecs'.)
        double[] due = [0.2, 0.6, 1.4, 2.2];
        for (int k = 0; k < 4; k++)
        {
            double stalled = double.Parse(
                System.Text.RegularExpressions.Regex.Match(entries[k].Message, @"inflight, ([0-9.]+) s").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(stalled >= due[k] - 0.05, $"report {k + 1} came at {stalled} s of stall, before its due time {due[k]} s");
        }

        t.Pool.Return(held);
        Assert.True(await t.Pool.WaitForReleaseAsync(Patience));
        await WaitUntil(() => !PagePoolStallLog.IsWatched(t.Pool));
        int logged = logs.Entries.Count;
        await Task.Delay(1000);
        Assert.Equal(logged, logs.Entries.Count);
    }

    [Fact]
    public async Task A_pool_released_at_destroy_logs_nothing_and_is_forgotten()
    {
        var logs = new RecordingLoggerFactory();
        TestPool t = TestPool.Create(o => o with { LoggerFactory = logs, StallLogFirstAfter = TimeSpan.FromMilliseconds(1), StallLogMaxInterval = TimeSpan.FromMilliseconds(1) });
        Assert.True(PagePoolStallLog.IsWatched(t.Pool));
        t.Pool.Return(t.Pool.Allocate());

        t.DestroyAndUnbind();

        Assert.True(await t.Pool.WaitForReleaseAsync(TimeSpan.Zero));
        await WaitUntil(() => !PagePoolStallLog.IsWatched(t.Pool));
        Assert.Empty(logs.Entries);
    }

    [Fact]
    public void A_pool_without_a_logger_factory_is_not_watched()
    {
        TestPool t = TestPool.Create();

        Assert.False(PagePoolStallLog.IsWatched(t.Pool));
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Stall_log_intervals_out_of_order_are_refused_with_a_message()
    {
        var options = new PagePoolOptions { StallLogFirstAfter = TimeSpan.FromSeconds(2), StallLogMaxInterval = TimeSpan.FromSeconds(1) };

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new PagePool(options));

        Assert.Contains("StallLogMaxInterval at least as long", refused.Message);
    }

    [Fact]
    public void The_info_of_a_stalled_pool_describes_the_stall_and_a_live_pool_has_none()
    {
        var stalled = new PagePoolInfo(7, "rx-0", "eth0", 0, PagePoolState.Detached, 3, 3 * 4096, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(12.34));
        var live = stalled with { State = PagePoolState.Active, DetachTime = null, StalledFor = null };

        Assert.Equal("stalled pool shutdown: 3 inflight, 12.3 s (pool rx-0, id 7)", stalled.DescribeStall());
        Assert.Null(live.DescribeStall());
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within the patience");
            await Task.Delay(20);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Netmem.Pool;

/// <summary>
/// The default stall log of pools created with a <see cref="PagePoolOptions.LoggerFactory"/>: one process-wide timer,
/// running only while such pools exist, logs each destroyed pool still waiting for its pages with back-off
/// (<see cref="StallBackoff"/>), in the kernel's words, and forgets the pool once it is released.
/// </summary>
internal static partial class PagePoolStallLog
{
    /// <summary>The log category.</summary>
    public const string Category = "Netmem.Pool.PagePool";

    /// <summary>How often the watched pools are looked at.</summary>
    internal static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(100);

    private static readonly ConcurrentDictionary<PagePool, Watch> s_watched = new(ReferenceEqualityComparer.Instance);
    private static readonly Lock s_timerLock = new();
    private static Timer? s_timer;
    private static int s_ticking;

    /// <summary>Watches <paramref name="pool"/> if its options name a logger factory; does nothing otherwise.</summary>
    public static void Attach(PagePool pool, PagePoolOptions options)
    {
        if (options.LoggerFactory is null)
        {
            return;
        }

        s_watched[pool] = new Watch(
            options.LoggerFactory.CreateLogger(Category),
            new StallBackoff(options.StallLogFirstAfter, options.StallLogMaxInterval));
        lock (s_timerLock)
        {
            s_timer ??= new Timer(_ => Tick(), null, TickInterval, TickInterval);
        }
    }

    /// <summary>Whether <paramref name="pool"/> is watched (for specs).</summary>
    internal static bool IsWatched(PagePool pool) => s_watched.ContainsKey(pool);

    private static void Tick()
    {
        if (Interlocked.Exchange(ref s_ticking, 1) == 1)
        {
            return;
        }

        try
        {
            foreach ((PagePool pool, Watch watch) in s_watched)
            {
                PagePoolState state = pool.State;
                if (state == PagePoolState.Released)
                {
                    s_watched.TryRemove(pool, out _);
                }
                else if (state == PagePoolState.Detached
                    && pool.GetInfo() is { StalledFor: { } stalledFor } info
                    && watch.Backoff.IsDue(stalledFor))
                {
                    LogStall(watch.Logger, info.Inflight, stalledFor.TotalSeconds, info.Name, info.Id);
                }
            }
        }
        finally
        {
            lock (s_timerLock)
            {
                if (s_watched.IsEmpty)
                {
                    s_timer?.Dispose();
                    s_timer = null;
                }
            }

            Volatile.Write(ref s_ticking, 0);
        }
    }

    [LoggerMessage(EventId = 1, EventName = "StalledPoolShutdown", Level = LogLevel.Warning,
        Message = "stalled pool shutdown: {Inflight} inflight, {StalledSeconds:0.#} s (pool {PoolName}, id {PoolId})")]
    private static partial void LogStall(ILogger logger, long inflight, double stalledSeconds, string poolName, int poolId);

    private sealed record Watch(ILogger Logger, StallBackoff Backoff);
}
